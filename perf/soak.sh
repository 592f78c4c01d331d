#!/usr/bin/env bash
# Soak: smtp-source sends MESSAGES messages through Edge, which relays them to Postfix's smtp-sink, and every 10 s
# the script samples Edge's resident memory, managed heap (dotnet-counters), threads, open file handles and queue
# log size, until the queue is empty again. It then checks that, after warm-up, none of them grows, and plots them.
#
#   perf/soak.sh [messages] [sessions]   (defaults: 1000000 20)
#
# Writes perf/out/soak/samples.csv and perf/soak.png. Edge listens on 127.0.0.1:10050, smtp-sink on 127.0.0.1:10051.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. perf/lib.sh

messages=${1:-1000000}
sessions=${2:-20}
out=perf/out/soak
rm -rf "$out"
mkdir -p "$out/config"

need=()
[ -x /usr/sbin/smtp-source ] || need+=(postfix)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
install_packages "${need[@]}"
counters=$HOME/.dotnet/tools/dotnet-counters
[ -x "$counters" ] || dotnet tool install -g dotnet-counters >/dev/null
publish_edge "$out"

cat > "$out/config/main.cf" <<CF
myhostname = mx.soak.example
mydestination = localhost
queue_directory = $PWD/$out/var
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:10051
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
CF
cat > "$out/config/master.cf" <<CF
127.0.0.1:10050 inet n - n - - smtpd
qmgr      unix  n - n 300 1 qmgr
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
CF

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

/usr/sbin/smtp-sink -u postfix -c 127.0.0.1:10051 1000 >/dev/null &
pids+=($!)
dotnet "$out/edge/edge.dll" run -c "$out/config" >"$out/edge.log" 2>&1 &
edge=$!
pids+=("$edge")
wait_for_port 10050 edge "$out/edge.log"

# The managed heap after the last collection, summed over generations: dotnet-counters writes its file only when a
# collection of a set duration ends, so each sample is a collection of its own.
heap_bytes() {
  rm -f "$out/counters.csv"
  "$counters" collect -p "$edge" --refresh-interval 1 --duration 00:00:00:02 --format csv -o "$out/counters.csv" \
    --counters System.Runtime >/dev/null 2>&1 </dev/null || true
  awk -F, '/last_collection\.heap\.size/ { last[$3] = $5 } END { s = 0; for (g in last) s += last[g]; print s + 0 }' "$out/counters.csv" 2>/dev/null || echo 0
}

# One line every 10 s: seconds since the start, phase, RSS, threads, file handles, managed heap, queue log bytes.
echo "seconds,phase,rss_kib,threads,fds,heap_bytes,log_bytes" > "$out/samples.csv"
sample() {
  local start=$1
  while [ -d "/proc/$edge" ]; do
    phase=load; [ -e "$out/drain" ] && phase=drain
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$edge/status")
    threads=$(awk '/^Threads/ { print $2 }' "/proc/$edge/status")
    fds=$(ls "/proc/$edge/fd" | wc -l)
    log=$(du -sb "$out/var/log" | cut -f1)
    heap=$(heap_bytes)
    echo "$(( $(date +%s) - start )),$phase,$rss,$threads,$fds,$heap,$log" >> "$out/samples.csv"
    sleep 8
  done
}
sample "$(date +%s)" &
pids+=($!)

started=$(date +%s)
/usr/sbin/smtp-source -s "$sessions" -m "$messages" -l 1024 -f sender@soak.example -t user@relay.example 127.0.0.1:10050
loaded=$(date +%s)
touch "$out/drain"
queued=1
for _ in $(seq 3600); do
  queued=$(dotnet "$out/edge/edge.dll" postqueue -c "$out/config" -p 2>/dev/null | grep -c '^[0-9A-Za-z]\{10\}' || true)
  [ "$queued" -eq 0 ] && break
  sleep 5
done
drained=$(date +%s)
sleep 20
accepted=$(grep -c 'status=sent' "$out/edge.log" || true)
echo "sent ${messages} in $(( loaded - started )) s ($(( messages / (loaded - started + 1) )) msg/s), queue empty after $(( drained - started )) s," \
  "${accepted} deliveries logged, still queued ${queued}"

/usr/bin/python3 - "$out" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
t = [int(r["seconds"]) for r in rows]
series = {
    "RSS (MiB)": [int(r["rss_kib"]) / 1024 for r in rows],
    "threads": [int(r["threads"]) for r in rows],
    "file handles": [int(r["fds"]) for r in rows],
    "managed heap (MiB)": [int(float(r["heap_bytes"])) / 2**20 for r in rows],
    "queue log (MiB)": [int(r["log_bytes"]) / 2**20 for r in rows],
}
load_end = max([s for s, r in zip(t, rows) if r["phase"] == "load"], default=0)

# Warm-up is the first fifth of the load; after it, the last third must not be above the middle third by more
# than 10% (or a small absolute slack for counts, and two 16 MiB segments for the log, which is cut a segment at a time).
start = len([r for r in rows if r["phase"] == "load"]) // 5
steady = list(range(start, len(rows)))
third = max(1, len(steady) // 3)
verdicts = []
for name, values in series.items():
    middle = max(values[i] for i in steady[third:2 * third]) if len(steady) >= 3 else max(values)
    last = max(values[i] for i in steady[-third:])
    slack = max(middle * 0.10, 8 if "threads" in name or "handles" in name else 32 if "log" in name else 1)
    grows = last > middle + slack
    verdicts.append(grows)
    print(f"{name}: after warm-up, max of middle third {middle:.1f}, of last third {last:.1f}: {'GROWS' if grows else 'steady'}")

fig, axes = plt.subplots(len(series), 1, figsize=(9, 2.2 * len(series)), sharex=True)
for ax, (name, values) in zip(axes, series.items()):
    ax.plot(t, values, lw=1)
    ax.set_ylabel(name, fontsize=8)
    ax.axvline(load_end, color="grey", ls="--", lw=0.8)
    ax.grid(alpha=0.3)
axes[-1].set_xlabel("seconds (dashed: load ends, the queue drains)")
fig.suptitle(f"Edge under perf/soak.sh: {len(rows)} samples, 10 s apart", fontsize=10)
fig.tight_layout()
fig.savefig("perf/soak.png", dpi=90)
sys.exit(1 if any(verdicts) else 0)
PY
[ "$queued" -eq 0 ]
