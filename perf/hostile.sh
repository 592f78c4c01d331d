#!/usr/bin/env bash
# Hostile clients (perf/hostile.py): 10,000 slow clients trickling a byte every 3 s, 4 MiB command lines, 8 MiB
# header lines, 64 MiB bodies past message_size_limit, 5,000 recipients per transaction, floods of pipelined NOOPs
# sent without reading a reply, and TLS handshakes abandoned half-way. While each runs, a well-behaved client
# connects every half second and times its greeting; Edge's resident memory is sampled.
#
#   perf/hostile.sh [scenario ...]   (default: all; names in perf/hostile.py)
#
# Edge listens on 127.0.0.1:10060 with Postfix's default limits; clients come from many 127.1.x.y addresses.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. perf/lib.sh

out=perf/out/hostile
rm -rf "$out"
mkdir -p "$out/config"
# Each side holds one descriptor per connection: as many as the hard limit allows.
ulimit -n "$(ulimit -Hn)"
publish_edge "$out"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.hostile.example \
  -keyout "$out/config/key.pem" -out "$out/config/cert.pem" 2>/dev/null

cat > "$out/config/main.cf" <<CF
myhostname = mx.hostile.example
mydestination = localhost
queue_directory = $PWD/$out/var
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PWD/$out/config/cert.pem
smtpd_tls_key_file = $PWD/$out/config/key.pem
CF
echo "127.0.0.1:10060 inet n - n - - smtpd" > "$out/config/master.cf"

dotnet "$out/edge/edge.dll" run -c "$out/config" >"$out/edge.log" 2>&1 &
edge=$!
trap 'kill $edge 2>/dev/null || true; wait 2>/dev/null || true' EXIT
wait_for_port 10060 edge "$out/edge.log"
sleep 2

echo "perf/hostile.sh $* at $(date -u '+%H:%M UTC %Y-%m-%d'), $(nproc) cores"
python3 perf/hostile.py "$edge" 10060 "$@"
kill -0 "$edge" || { echo "perf/hostile.sh: edge died; see $out/edge.log" >&2; exit 1; }
