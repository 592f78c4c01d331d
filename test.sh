#!/usr/bin/env bash
# Runs Edge's whole test suite on a fresh Debian machine with the .NET 10 SDK: installs the real mail
# software the tests talk to (swaks; Postfix for smtp-source and smtp-sink; dnsmasq; Dovecot LMTP; pflogsumm;
# the postgrey policy server; opendkim and rspamd as mail filters; redis-server and haproxy for the shared
# policy store behind a load balancer; openssl's s_client as a TLS client; strace to see that a 250 waits for fsync;
# Prometheus' promtool to check the metrics page; headless Chromium to load the queue page; systemd-analyze to verify
# the unit in deploy/; PostgreSQL, MariaDB, memcached, OpenLDAP's slapd and Postfix's pgsql, mysql, sqlite and ldap map modules, to
# compare database and directory tables; clang and zlib's headers to build the native edge-source with NativeAOT), builds,
# tests, and prints the runner's summary.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v swaks >/dev/null 2>&1 || need+=(swaks)
[ -x /usr/sbin/smtp-source ] || need+=(postfix)
[ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
[ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
command -v pflogsumm >/dev/null 2>&1 || need+=(pflogsumm)
[ -x /usr/sbin/postgrey ] || need+=(postgrey)
[ -x /usr/sbin/opendkim ] || need+=(opendkim)
command -v opendkim-genkey >/dev/null 2>&1 || need+=(opendkim-tools)
[ -x /usr/bin/rspamd ] || need+=(rspamd)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ -d /usr/lib/postgresql ] || need+=(postgresql)
[ -e /usr/lib/postfix/postfix-pgsql.so ] || need+=(postfix-pgsql)
[ -e /usr/lib/postfix/postfix-sqlite.so ] || need+=(postfix-sqlite)
[ -x /usr/bin/memcached ] || need+=(memcached)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -e /usr/lib/postfix/postfix-mysql.so ] || need+=(postfix-mysql)
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapadd >/dev/null 2>&1 || need+=(ldap-utils)
[ -e /usr/lib/postfix/postfix-ldap.so ] || need+=(postfix-ldap)
command -v clang >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing test peers: ${need[*]}"
  $sudo apt-get update -qq
  # Postfix asks how to configure itself; the tests only use its smtp-source and smtp-sink programs.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  # The tests start their own peers; the packages' system services (dovecot …) must not start.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$policy" ] || $sudo rm -f "$policy"
fi
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing test peer: chromium"
  $sudo apt-get update -qq
  # The browser alone: the desktop packages it recommends are not needed to load a page headless.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Tests hold many sockets at once.
ulimit -n 65536 2>/dev/null || true

rm -rf TestResults
# Files the tests keep for people to look at (the queue page's screenshot).
export EDGE_TEST_ARTIFACTS="$PWD/TestResults/artifacts"
status=0
# --blame-crash: should the test host die (it did, rarely, with a segfault in the runtime's background GC), the
# log names the tests that were running and TestResults keeps a dump of the process to find the cause.
dotnet test Edge.sln --configuration Release --logger "console;verbosity=minimal" \
  --logger "trx;LogFileName=results.trx" --results-directory TestResults \
  --blame-crash --blame-crash-dump-type mini || status=$?

trx=$(find TestResults -name results.trx | head -n 1)
if [ -n "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  passed=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
  failed=$(echo "$counters" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
  echo "Tests: ${passed} passed, ${failed} failed"
fi
exit $status
