#!/usr/bin/env bash
# Fuzzes one parser with afl++ through SharpFuzz: fuzz/run.sh TARGET SECONDS (targets: edge-fuzz with no arguments
# lists them). Installs afl++ and the sharpfuzz tool when missing, builds the harness, instruments edge.dll,
# starts from fuzz/corpus/TARGET and prints afl's figures. Findings stay in fuzz/findings/TARGET; each crash or
# hang is also copied to fuzz/crashes/TARGET, which the replay test (FuzzCorpusTests) runs from then on.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
[ -d "corpus/$target" ] || { echo "fuzz/run.sh: no corpus/$target: unknown target" >&2; exit 2; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v afl-fuzz >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null
fi
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null 2>&1 || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null

# Each run instruments a fresh copy, so that the build the tests use is never the instrumented one.
out="out/$target"
rm -rf "$out"
dotnet publish Edge.Fuzz/Edge.Fuzz.csproj -c Release -o "$out" --nologo -v quiet
sharpfuzz "$out/edge.dll" >/dev/null

findings="findings/$target"
rm -rf "$findings"
mkdir -p findings
# afl's checks of the CPU governor and core dump handler do not apply to a .NET target in a container, and
# several targets may share the cores.
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 \
  afl-fuzz -V "$seconds" -t 5000 -m none -i "corpus/$target" -o "$findings" -- dotnet "$out/edge-fuzz.dll" "$target" >"$findings.log" 2>&1 || {
  tail -30 "$findings.log" >&2
  exit 1
}

stats="$findings/default/fuzzer_stats"
for field in run_time execs_done execs_per_sec corpus_count saved_crashes saved_hangs; do
  printf '%-14s %s\n' "$field" "$(awk -F' *: *' -v f="$field" '$1 == f { print $2 }' "$stats")"
done
mkdir -p "crashes/$target"
for kind in crashes hangs; do
  for file in "$findings/default/$kind"/id:*; do
    [ -e "$file" ] || continue
    cp "$file" "crashes/$target/$kind-$(sha1sum "$file" | cut -c1-12)"
    echo "new $kind finding: crashes/$target/$kind-$(sha1sum "$file" | cut -c1-12)"
  done
done
