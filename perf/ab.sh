#!/usr/bin/env bash
# A/B run of Edge configurations (environment variables) against smtp-sink, reading Edge's CPU time and
# context switches per message from /proc: steadier figures than msg/s alone on a noisy machine.
#
#   perf/ab.sh ROUNDS 'label|VAR=value ...' ['label|VAR=value ...' ...]
#   perf/ab.sh 3 'base|' 'spin0|DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0'
#
# Each round restarts Edge per configuration on a fresh queue, warms it up with 20,000 messages, then
# measures 20,000 1 KiB messages over 50 sessions (smtp-source), then the same against smtp-sink.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1
shift
out=perf/out/ab
rm -rf "$out"
mkdir -p "$out/conf"
cat > "$out/conf/main.cf" <<CF
myhostname = mx.perf.example
mydestination = localhost
queue_directory = $PWD/$out/queue
CF
echo "127.0.0.1:10027 inet n - n - - smtpd" > "$out/conf/master.cf"
dotnet publish src/Edge -c Release -o "$out/edge" --nologo -v quiet >/dev/null

edge=""
cleanup() {
  [ -z "$edge" ] || kill "$edge" 2>/dev/null || true
  [ -z "${sink:-}" ] || kill "$sink" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
/usr/sbin/smtp-sink -u postfix -c 127.0.0.1:10026 1000 > /dev/null &
sink=$!

send() {
  /usr/sbin/smtp-source -s 50 -m "$2" -l 1024 -f sender@perf.example -t postmaster@localhost \
    -M client.perf.example "127.0.0.1:$1"
}

# Context switches of all the process's threads, and its CPU ticks (user, system).
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
ticks() { sed 's/.*) //' /proc/"$1"/stat | awk '{print $12, $13}'; }

# Prints msg/s, context switches and CPU µs per message of process $2 while port $1 takes 20,000 messages.
measure() {
  local port=$1 pid=$2 n=20000 c0 c1 t0 t1 start end
  c0=$(switches "$pid"); t0=$(ticks "$pid"); start=$(date +%s.%N)
  send "$port" $n
  end=$(date +%s.%N); c1=$(switches "$pid"); t1=$(ticks "$pid")
  read -r u0 s0 <<< "$t0"; read -r u1 s1 <<< "$t1"
  printf '%6.0f msg/s  %4.1f switches/msg  %4d µs CPU/msg (%d in the kernel)' \
    "$(echo "$n / ($end - $start)" | bc -l)" "$(echo "($c1 - $c0) / $n" | bc -l)" \
    $(( (u1 - u0 + s1 - s0) * 10000 / n )) $(( (s1 - s0) * 10000 / n ))
}

for round in $(seq "$rounds"); do
  for config in "$@"; do
    label=${config%%|*}
    read -r -a vars <<< "${config#*|}"
    rm -rf "$out/queue"
    env "${vars[@]}" "$out/edge/edge" run -c "$out/conf" > "$out/edge.log" 2>&1 &
    edge=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/10027) 2>/dev/null && break; sleep 0.1; done
    send 10027 20000
    e=$(measure 10027 "$edge")
    s=$(measure 10026 "$sink")
    printf 'round %d  %-12s edge: %s\n                     sink: %s\n' "$round" "$label" "$e" "$s"
    kill "$edge"; wait "$edge" 2>/dev/null || true; edge=""
  done
done
