# Helpers the perf scripts share; sourced, not run.

# Installs the Debian packages given that are missing (postfix without setting up a mail system: the scripts
# need only its smtp-source and smtp-sink, and run their own instances).
install_packages() {
  [ $# -gt 0 ] || return 0
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Edge, built for the run, in DIRECTORY/edge.
publish_edge() {
  dotnet publish src/Edge -c Release -o "$1/edge" --nologo -v quiet >/dev/null
}

# The native edge-source beside it, which `edge source` then runs (NativeAOT: needs clang and zlib's headers).
publish_edge_source() {
  { command -v clang >/dev/null 2>&1 && [ -e /usr/include/zlib.h ]; } || install_packages clang zlib1g-dev
  dotnet publish src/Edge.Source -c Release -o "$1/edge" --nologo -v quiet >/dev/null
}

# Waits up to 30 s for something to listen on 127.0.0.1:PORT; fails with "WHAT did not start" and LOG's hint.
wait_for_port() {
  local port=$1 what=$2 log=$3
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0; sleep 0.1; done
  echo "$0: $what did not start; see $log" >&2
  return 1
}
