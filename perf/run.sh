#!/usr/bin/env bash
# Side-by-side load run: Postfix's smtp-source drives Edge, Postfix and smtp-sink with identical
# parameters, alternating targets within one run, and prints messages/second with the ratios.
#
#   perf/run.sh [messages] [sessions] [rounds] [profiles]   (defaults: 20000 50 2 accept,deliver,greylist,inspecting,load)
#
# Profiles: "accept" (accept and queue, 1 KiB and 100 KiB), "deliver" (accept and relay on to smtp-sink),
# "inspecting" (an inspecting MX: 100 header_checks and 100 body_checks pcre rules and opendkim signing as a
# milter, 10 KiB messages, accept and queue), "greylist" (every RCPT asks a greylisting policy whose triplet is
# already let through: Edge's policies/greylist.js against Postfix asking Debian's postgrey by check_policy_service,
# and Edge without the policy; 1 KiB, accept and queue), "load" (the load-testing tools: smtp-source drives
# smtp-sink and edge sink in turn; then smtp-source and edge source drive smtp-sink in turn, and both drive edge sink
# once, whose metrics count what each sent, to show that the two generators agree).
#
# A warm-up run of 20,000 messages goes to each target first and is not counted.
#
# Postfix is installed from Debian if missing, configured in perf/out/postfix (listening on
# 127.0.0.1:10025, every message put on hold so that, like Edge, it only accepts and queues durably,
# with no delivery work competing for the two cores). smtp-sink listens on
# 127.0.0.1:10026 (accepts and discards: the protocol-only ceiling), Edge on 127.0.0.1:10027.
# Everything runs on loopback and stops when the script ends.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. perf/lib.sh

messages=${1:-20000}
sessions=${2:-50}
rounds=${3:-2}
profiles=${4:-accept,deliver,greylist,inspecting,load}
want() { [[ ",$profiles," == *",$1,"* ]]; }
out=perf/out
rm -rf "$out"
mkdir -p "$out"

{ [ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/postfix ]; } || install_packages postfix

# Waits until something listens on each 127.0.0.1 port given (at most 10 s each).
wait_for() {
  local port
  for port in "$@"; do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  done
}

pids=()
cleanup() {
  postfix -c "$PWD/$out/postfix" stop >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# --- Postfix: accept and queue (fsync'ed queue files); HOLD keeps the queue manager out of it.
pf="$PWD/$out/postfix"
mkdir -p "$pf/spool" "$pf/data"
cat > "$pf/main.cf" <<CF
compatibility_level = 3.6
myhostname = mx.perf.example
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
smtpd_data_restrictions = check_client_access static:HOLD
CF
cat > "$pf/master.cf" <<CF
127.0.0.1:10025 inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
postfix -c "$pf" set-permissions >/dev/null 2>&1 || true
# Postfix reports to a terminal or syslog only; script(1) gives its errors a terminal.
script -qec "postfix -c '$pf' check && postfix -c '$pf' start" /dev/null

# --- smtp-sink: the ceiling of the protocol on this machine.
/usr/sbin/smtp-sink -u postfix -c 127.0.0.1:10026 1000 > /dev/null &
pids+=($!)

# --- Edge.
publish_edge "$out"
if want load; then publish_edge_source "$out"; fi

# Starts an Edge whose configuration is $out/NAME (queue $out/NAME-queue, log $out/NAME.log), listening on
# 127.0.0.1:PORT, with more main.cf lines and master.cf services when given.
start_edge() {
  local name=$1 port=$2 main=${3:-} master=${4:-}
  local conf="$PWD/$out/$name"
  mkdir -p "$conf"
  printf 'myhostname = mx.perf.example\nmydestination = localhost\nqueue_directory = %s\n%s\n' "$conf-queue" "$main" > "$conf/main.cf"
  printf '127.0.0.1:%s inet n - n - - smtpd\n%s\n' "$port" "$master" > "$conf/master.cf"
  "$out/edge/edge" run -c "$conf" > "$out/$name.log" 2>&1 &
  pids+=($!)
}
ec="$PWD/$out/edge-conf"
start_edge edge-conf 10027

wait_for 10025 10026 10027

# One smtp-source run; prints messages/second.
drive() {
  local port=$1 size=$2
  local start end
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$sessions" -m "$messages" -l "$size" -f sender@perf.example \
    -t postmaster@localhost -M client.perf.example "127.0.0.1:$port"
  end=$(date +%s.%N)
  echo "$messages / ($end - $start)" | bc -l
}

# Warm-up, not counted: a server runs warm in production, and .NET keeps compiling hot code into its
# optimised tier for the first tens of thousands of messages (tiered JIT with PGO: some 800 methods are
# still compiled during a second run of 20,000); the same run goes to every target so that none starts cold.
for port in 10027 10025 10026; do
  /usr/sbin/smtp-source -s "$sessions" -m 20000 -l 1024 -f sender@perf.example -t postmaster@localhost \
    -M client.perf.example "127.0.0.1:$port"
done

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "postfix: $(postconf -d mail_version | cut -d' ' -f3)"
echo "command: perf/run.sh $messages $sessions $rounds $profiles  (smtp-source -s $sessions -m $messages -l SIZE)"

if want accept; then
declare -A rate
for size in 1024 102400; do
  for target in edge postfix sink; do rate[$target,$size]=0; done
  for round in $(seq "$rounds"); do
    for target in edge postfix sink; do
      case $target in edge) port=10027 ;; postfix) port=10025 ;; sink) port=10026 ;; esac
      r=$(drive $port $size)
      printf 'round %d  %-7s %6d bytes  %8.0f msg/s\n' "$round" "$target" "$size" "$r"
      rate[$target,$size]=$(echo "${rate[$target,$size]} + $r / $rounds" | bc -l)
    done
  done
done

echo
printf '%-10s %10s %10s %10s %12s %12s\n' size edge postfix sink edge/postfix edge/sink
for size in 1024 102400; do
  e=${rate[edge,$size]}; p=${rate[postfix,$size]}; s=${rate[sink,$size]}
  printf '%-10s %10.0f %10.0f %10.0f %12.2f %12.2f\n' "$size" "$e" "$p" "$s" "$(echo "$e / $p" | bc -l)" "$(echo "$e / $s" | bc -l)"
done
queued=$("$out/edge/edge" postqueue -c "$ec" -p | tail -n 1)
echo "edge queue after the run: $queued"
fi

if want deliver; then
# --- Accept and deliver: the same smtp-source load, now relayed on to smtp-sink, timed until the queue is
# empty again. Postfix: the hold restriction lifted, relayhost set, its queue manager and smtp client at work.
# Edge: a second instance whose master.cf has qmgr and smtp.
postconf -c "$pf" -e "smtpd_data_restrictions =" "relayhost = [127.0.0.1]:10026"
cat >> "$pf/master.cf" <<CF
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
CF
postsuper -c "$pf" -d ALL hold >/dev/null 2>&1 || true
script -qec "postfix -c '$pf' reload" /dev/null >/dev/null

ed="$PWD/$out/edge-deliver"
start_edge edge-deliver 10028 "relayhost = [127.0.0.1]:10026" "$(printf 'qmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp')"
wait_for 10028

# One smtp-source run to remote recipients, then wait for the queue to drain; prints messages/second.
deliver() {
  local port=$1 empty=$2 start end
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$sessions" -m "$messages" -l 1024 -f sender@perf.example \
    -t someone@remote.perf.example -M client.perf.example "127.0.0.1:$port"
  until eval "$empty"; do sleep 0.2; done
  end=$(date +%s.%N)
  echo "$messages / ($end - $start)" | bc -l
}
postfix_empty="[ -z \"\$(postqueue -c '$pf' -p 2>/dev/null | grep -v 'Mail queue is empty')\" ]"
edge_empty="[ \"\$('$out/edge/edge' postqueue -c '$ed' -p)\" = 'Mail queue is empty' ]"
de=0; dp=0
for round in $(seq "$rounds"); do
  r=$(deliver 10028 "$edge_empty"); printf 'round %d  edge     accept+deliver  %8.0f msg/s\n' "$round" "$r"; de=$(echo "$de + $r / $rounds" | bc -l)
  r=$(deliver 10025 "$postfix_empty"); printf 'round %d  postfix  accept+deliver  %8.0f msg/s\n' "$round" "$r"; dp=$(echo "$dp + $r / $rounds" | bc -l)
done
printf 'accept and deliver to smtp-sink, 1024 bytes: edge %.0f msg/s, postfix %.0f msg/s, edge/postfix %.2f\n' "$de" "$dp" "$(echo "$de / $dp" | bc -l)"
fi

# --- Greylisting: every RCPT TO asks a policy. Postfix asks postgrey (check_policy_service, one connection per
# smtpd process, kept open), Edge runs policies/greylist.js in process, its state in the default FasterKV store.
# Both are seeded first: smtp-source's one triplet is greylisted once, retried after the delay (1 s here instead
# of 300) and passes from then on; postgrey also learns the client (auto-whitelisting after 5 passes, its default).
if want greylist; then
  [ -x /usr/sbin/postgrey ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgrey >/dev/null
  gl="$PWD/$out/greylist"
  mkdir -p "$gl/postgrey"
  /usr/sbin/postgrey --inet=127.0.0.1:10031 --dbdir="$gl/postgrey" --delay=1 --user=root --group=root >/dev/null 2>&1 &
  pids+=($!)
  postconf -c "$pf" -e "smtpd_data_restrictions = check_client_access static:HOLD" "relayhost =" \
    "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:10031"
  script -qec "postfix -c '$pf' reload" /dev/null >/dev/null
  sed 's/^const DELAY_SECONDS = 300;/const DELAY_SECONDS = 1;/' policies/greylist.js > "$gl/greylist.js"
  eg="$PWD/$out/edge-greylist"
  start_edge edge-greylist 10032 "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_script $gl/greylist.js"
  wait_for 10031 10032
  for port in 10032 10025; do
    /usr/sbin/smtp-source -s 1 -m 1 -f sender@perf.example -t postmaster@localhost -M client.perf.example "127.0.0.1:$port" || true
  done
  sleep 2
  for port in 10032 10025; do
    /usr/sbin/smtp-source -s 1 -m 10 -f sender@perf.example -t postmaster@localhost -M client.perf.example "127.0.0.1:$port"
    /usr/sbin/smtp-source -s "$sessions" -m 20000 -l 1024 -f sender@perf.example -t postmaster@localhost \
      -M client.perf.example "127.0.0.1:$port"
  done
  count() { awk '/^[0-9A-Za-z]+[*!]? +[0-9]+ /{n++} END{print n+0}'; }
  pq() { postqueue -c "$pf" -p 2>/dev/null | count; }
  eq() { "$out/edge/edge" postqueue -c "$1" -p | count; }
  gp=0; ge=0; gn=0
  for round in $(seq "$rounds"); do
    before=$(eq "$eg"); r=$(drive 10032 1024); after=$(eq "$eg")
    printf 'round %d  edge+greylist.js  %8.0f msg/s  (%d queued)\n' "$round" "$r" "$((after - before))"; ge=$(echo "$ge + $r / $rounds" | bc -l)
    r=$(drive 10027 1024); printf 'round %d  edge, no policy   %8.0f msg/s\n' "$round" "$r"; gn=$(echo "$gn + $r / $rounds" | bc -l)
    before=$(pq); r=$(drive 10025 1024); after=$(pq)
    printf 'round %d  postfix+postgrey  %8.0f msg/s  (%d queued)\n' "$round" "$r" "$((after - before))"; gp=$(echo "$gp + $r / $rounds" | bc -l)
  done
  printf 'greylisting, 1024 bytes: edge+greylist.js %.0f msg/s, edge without policy %.0f msg/s, postfix+postgrey %.0f msg/s; edge+policy/postfix %.2f, edge+policy/edge %.3f\n' \
    "$ge" "$gn" "$gp" "$(echo "$ge / $gp" | bc -l)" "$(echo "$ge / $gn" | bc -l)"
  postconf -c "$pf" -e "smtpd_recipient_restrictions ="
  script -qec "postfix -c '$pf' reload" /dev/null >/dev/null
fi

# --- Inspecting MX: what an anti-spam edge does to each message. 100 header_checks and 100 body_checks rules
# (pcre, none matching), and opendkim (one instance, shared) signing every message as a milter; 10 KiB messages,
# accepted and queued (Postfix holds them, this Edge has no qmgr).
if want inspecting; then
  [ -x /usr/sbin/opendkim ] && command -v opendkim-genkey >/dev/null || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opendkim opendkim-tools >/dev/null
  postconf -c "$pf" -m | grep -qx pcre || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix-pcre >/dev/null
  ik="$PWD/$out/inspect"
  mkdir -p "$ik"
  for i in $(seq 0 99); do echo "/^Subject:.*\\bspamword$i\\b/ REJECT rule $i"; done > "$ik/header_checks"
  for i in $(seq 0 99); do echo "/forbidden phrase number $i/ REJECT rule $i"; done > "$ik/body_checks"
  opendkim-genkey -b 2048 -D "$ik" -d perf.example -s perf
  cat > "$ik/opendkim.conf" <<CF
Syslog no
Background no
Socket inet:10030@127.0.0.1
Mode s
Domain perf.example
Selector perf
KeyFile $ik/perf.private
RequireSafeKeys false
InternalHosts 127.0.0.1
CF
  opendkim -f -x "$ik/opendkim.conf" &
  pids+=($!)
  postconf -c "$pf" -e "smtpd_data_restrictions = check_client_access static:HOLD" "relayhost =" \
    "header_checks = pcre:$ik/header_checks" "body_checks = pcre:$ik/body_checks" \
    "smtpd_milters = inet:127.0.0.1:10030" "milter_default_action = tempfail"
  script -qec "postfix -c '$pf' reload" /dev/null >/dev/null
  ei="$PWD/$out/edge-inspect"
  start_edge edge-inspect 10029 "$(printf 'header_checks = pcre:%s\nbody_checks = pcre:%s\nsmtpd_milters = inet:127.0.0.1:10030' "$ik/header_checks" "$ik/body_checks")"
  wait_for 10029 10030
  for port in 10029 10025; do
    /usr/sbin/smtp-source -s "$sessions" -m 5000 -l 10240 -f sender@perf.example -t postmaster@localhost \
      -M client.perf.example "127.0.0.1:$port"
  done
  ie=0; ip=0
  for round in $(seq "$rounds"); do
    r=$(drive 10029 10240); printf 'round %d  edge     inspecting MX  %8.0f msg/s\n' "$round" "$r"; ie=$(echo "$ie + $r / $rounds" | bc -l)
    r=$(drive 10025 10240); printf 'round %d  postfix  inspecting MX  %8.0f msg/s\n' "$round" "$r"; ip=$(echo "$ip + $r / $rounds" | bc -l)
  done
  printf 'inspecting MX, 10240 bytes: edge %.0f msg/s, postfix %.0f msg/s, edge/postfix %.2f\n' "$ie" "$ip" "$(echo "$ie / $ip" | bc -l)"
  echo "edge queue after the run: $("$out/edge/edge" postqueue -c "$ei" -p | tail -n 1)"
  one=$("$out/edge/edge" postqueue -c "$ei" -p | awk '$2 + 0 > 10000 { sub(/[*!]$/, "", $1); print $1; exit }')
  echo "a message Edge queued is signed: $("$out/edge/edge" postcat -c "$ei" -q "$one" | grep -c '^DKIM-Signature: ')"
  pone=$(postqueue -c "$pf" -p | awk '$2 + 0 > 10000 { sub(/[*!]$/, "", $1); print $1; exit }')
  echo "a message Postfix queued is signed: $(postcat -c "$pf" -q "$pone" 2>/dev/null | grep -c 'DKIM-Signature: ')"
fi

# --- Load-testing tools (issue #18). Both sinks accept and discard; both generators send the same load. Each rate is
# messages over the wall time of the generator's whole command (edge source's includes starting .NET before the native
# edge-source takes its place); each sink's CPU time for the run is read from /proc (what it costs a message, steadier
# than the rates on a shared VM). 100 KiB runs send a fifth as many messages.
if want load; then
  lc="$PWD/$out/edge-sink"
  mkdir -p "$lc"
  echo "edge_metrics_listen = 127.0.0.1:10035" > "$lc/main.cf"
  "$out/edge/edge" sink -c "$lc" 127.0.0.1:10034 > "$out/edge-sink.log" 2>&1 &
  edge_sink=$!
  pids+=($edge_sink)
  wait_for 10034 10035
  smtp_sink=$(pgrep -f 'smtp-sink -u postfix -c 127.0.0.1:10026' | head -n 1)
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  # One run of "$@" (count messages); prints messages/second, and sets $ms to PID's CPU milliseconds per 1,000 messages.
  timed() {
    local pid=$1 count=$2 start end before after
    shift 2
    before=$(cpu_ticks "$pid")
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    after=$(cpu_ticks "$pid")
    ms=$(echo "($after - $before) * 1000 / $(getconf CLK_TCK) * 1000 / $count" | bc -l)
    rate=$(echo "$count / ($end - $start)" | bc -l)
  }
  /usr/sbin/smtp-source -s "$sessions" -m 20000 -l 1024 127.0.0.1:10034
  "$out/edge/edge" source -s "$sessions" -m 20000 -l 1024 127.0.0.1:10026 > /dev/null
  # Each round brackets edge sink's and edge source's runs between two runs of smtp-source against smtp-sink, whose
  # mean is the round's reference for both ratios (the machine's speed drifts within a round). The two take turns to
  # go first: a run just after edge sink's was measured slower at 100 KiB whichever generator made it.
  for size in 1024 102400; do
    count=$messages
    [ "$size" -le 1024 ] || count=$((messages / 5))
    base=0; ke=0; ge=0; cs=0; ce=0
    sink_run() {
      timed "$edge_sink" "$count" /usr/sbin/smtp-source -s "$sessions" -m "$count" -l "$size" 127.0.0.1:10034
      ke=$(echo "$ke + $rate / $rounds" | bc -l); ce=$(echo "$ce + $ms / $rounds" | bc -l)
      printf 'round %d  smtp-source -> edge sink  %6d bytes  %8.0f msg/s  sink CPU %.1f ms/1000 msgs\n' "$round" "$size" "$rate" "$ms"
    }
    source_run() {
      timed "$smtp_sink" "$count" "$out/edge/edge" source -s "$sessions" -m "$count" -l "$size" 127.0.0.1:10026
      ge=$(echo "$ge + $rate / $rounds" | bc -l)
      printf 'round %d  edge source -> smtp-sink  %6d bytes  %8.0f msg/s\n' "$round" "$size" "$rate"
    }
    for round in $(seq "$rounds"); do
      timed "$smtp_sink" "$count" /usr/sbin/smtp-source -s "$sessions" -m "$count" -l "$size" 127.0.0.1:10026; s1=$rate; c1=$ms
      printf 'round %d  smtp-source -> smtp-sink  %6d bytes  %8.0f msg/s  sink CPU %.1f ms/1000 msgs\n' "$round" "$size" "$s1" "$c1"
      if [ $((round % 2)) -eq 1 ]; then sink_run; source_run; else source_run; sink_run; fi
      timed "$smtp_sink" "$count" /usr/sbin/smtp-source -s "$sessions" -m "$count" -l "$size" 127.0.0.1:10026; s2=$rate; c2=$ms
      printf 'round %d  smtp-source -> smtp-sink  %6d bytes  %8.0f msg/s  sink CPU %.1f ms/1000 msgs\n' "$round" "$size" "$s2" "$c2"
      base=$(echo "$base + ($s1 + $s2) / 2 / $rounds" | bc -l); cs=$(echo "$cs + ($c1 + $c2) / 2 / $rounds" | bc -l)
    done
    printf 'sinks, %d bytes: smtp-sink %.0f msg/s (CPU %.1f ms/1000 msgs), edge sink %.0f msg/s (CPU %.1f ms/1000 msgs), edge sink/smtp-sink %.2f\n' \
      "$size" "$base" "$cs" "$ke" "$ce" "$(echo "$ke / $base" | bc -l)"
    printf 'generators, %d bytes: smtp-source %.0f msg/s, edge source %.0f msg/s, edge source/smtp-source %.2f\n' "$size" "$base" "$ge" "$(echo "$ge / $base" | bc -l)"
  done
  # The sink's metrics page, by HTTP/1.0 over bash's /dev/tcp (no curl needed).
  accepted() {
    exec 3<>/dev/tcp/127.0.0.1/10035
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    awk '/^edge_sink_messages_total\{result="accepted"\}/{print $2}' <&3
    exec 3<&-
  }
  before=$(accepted); /usr/sbin/smtp-source -s "$sessions" -m "$messages" -l 1024 127.0.0.1:10034; after=$(accepted)
  echo "edge sink counted $((after - before)) of smtp-source's $messages messages"
  before=$(accepted); "$out/edge/edge" source -s "$sessions" -m "$messages" -l 1024 127.0.0.1:10034 | sed -n 2p; after=$(accepted)
  echo "edge sink counted $((after - before)) of edge source's $messages messages"
fi
