#!/usr/bin/env bash
# Repeated crashes under load: clients send numbered messages to Edge, which relays them to Postfix's smtp-sink;
# Edge is killed with -9 at a random moment CYCLES times and started again on the same queue. At the end Edge
# runs until its queue is empty, and the script checks that every message that got "250 … queued as" reached
# smtp-sink, and counts the messages that reached it twice (a delivery in flight when Edge died is sent again,
# as any MTA sends it again).
#
#   perf/crash.sh [cycles] [seconds of load per cycle] [clients]   (defaults: 20 5 8)
#
# Edge listens on 127.0.0.1:10040, smtp-sink on 127.0.0.1:10041; everything stops when the script ends.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. perf/lib.sh

cycles=${1:-20}
seconds=${2:-5}
clients=${3:-8}
out=perf/out/crash
rm -rf "$out"
mkdir -p "$out/config" "$out/sink"

[ -x /usr/sbin/smtp-sink ] || install_packages postfix
publish_edge "$out"

cat > "$out/config/main.cf" <<CF
myhostname = mx.crash.example
mydestination = localhost
queue_directory = $PWD/$out/var
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:10041
smtpd_client_connection_count_limit = 0
CF
cat > "$out/config/master.cf" <<CF
127.0.0.1:10040 inet n - n - - smtpd
qmgr      unix  n - n 300 1 qmgr
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
CF

pids=()
edge=""
cleanup() {
  [ -z "$edge" ] || kill -9 "$edge" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Each accepted transaction is a file of its own in $out/sink (smtp-sink drops root privileges for nobody's).
chmod 1777 "$out/sink"
/usr/sbin/smtp-sink -u nobody -c -d "$PWD/$out/sink/%H%M%S." 127.0.0.1:10041 1000 >"$out/sink.log" 2>&1 &
pids+=($!)
wait_for_port 10041 smtp-sink "$out/sink.log"

start_edge() {
  dotnet "$out/edge/edge.dll" run -c "$out/config" >>"$out/edge.log" 2>&1 &
  edge=$!
  wait_for_port 10040 edge "$out/edge.log"
}

# The clients: each sends message after message, one per transaction, and writes a message's number to
# acked.CLIENT only after its 250; a connection Edge's death breaks is opened again.
cat > "$out/client.py" <<'PY'
import smtplib, sys, os, time
client, out = sys.argv[1], sys.argv[2]
stop = os.path.join(out, "stop")
n = 0
with open(os.path.join(out, f"acked.{client}"), "a", buffering=1) as acked:
    while not os.path.exists(stop):
        try:
            with smtplib.SMTP("127.0.0.1", 10040, timeout=30) as s:
                s.ehlo("client.crash.example")
                while not os.path.exists(stop):
                    n += 1
                    marker = f"crash-{client}-{n}"
                    s.sendmail("sender@example.org", [f"user{n % 10}@remote.example"],
                               f"Subject: {marker}\r\nX-Marker: {marker}\r\n\r\n{marker}\r\n" + "x" * 900 + "\r\n")
                    acked.write(marker + "\n")
        except (OSError, smtplib.SMTPException):
            time.sleep(0.2)
PY

start_edge
for i in $(seq "$clients"); do python3 "$out/client.py" "$i" "$out" & pids+=($!); done
for cycle in $(seq "$cycles"); do
  sleep "$(awk -v s="$seconds" 'BEGIN { srand(); printf "%.1f", s * (0.5 + rand()) }')"
  kill -9 "$edge"; wait "$edge" 2>/dev/null || true
  start_edge
done
touch "$out/stop"
sleep 2
# Edge runs until everything it accepted was delivered.
for _ in $(seq 600); do
  queued=$(dotnet "$out/edge/edge.dll" postqueue -c "$out/config" -p 2>/dev/null | grep -c '^[0-9A-Za-z]\{10\}' || true)
  [ "$queued" -eq 0 ] && break
  sleep 1
done

cat "$out"/acked.* | sort -u > "$out/acked"
grep -ho 'X-Marker: crash-[0-9]*-[0-9]*' -r "$out/sink" | sed 's/X-Marker: //' | sort > "$out/delivered.all"
sort -u "$out/delivered.all" > "$out/delivered"
acked=$(wc -l < "$out/acked")
lost=$(comm -23 "$out/acked" "$out/delivered" | wc -l)
duplicates=$(( $(wc -l < "$out/delivered.all") - $(wc -l < "$out/delivered") ))
unacked_delivered=$(comm -13 "$out/acked" "$out/delivered" | wc -l)
echo "cycles ${cycles}, clients ${clients}, still queued ${queued}"
echo "acknowledged ${acked}, lost ${lost}, delivered twice ${duplicates}, delivered without a 250 (killed before the reply) ${unacked_delivered}"
[ "$lost" -eq 0 ] && [ "$queued" -eq 0 ]
