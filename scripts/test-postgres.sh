#!/usr/bin/env bash
# A PostgreSQL server on loopback for the tests of the PostgreSQL store; prints its URL.
# Uses $POWERHUNGRY_TEST_POSTGRES when set (a server of your own). Otherwise it starts (or
# reuses) a private cluster from Debian's `postgresql` package: data in
# /tmp/powerhungry-pg-$PORT, listening on 127.0.0.1:$PORT only (default 54329), password
# authentication over TCP. It is left running for the next test run; stop it with
#   pg_ctl -D /tmp/powerhungry-pg-54329 stop   (as the user `postgres` when run as root)
# Each test makes its own database in it, so runs never see each other's rows.
set -euo pipefail
if [ -n "${POWERHUNGRY_TEST_POSTGRES:-}" ]; then
  echo "$POWERHUNGRY_TEST_POSTGRES"
  exit 0
fi
port="${POWERHUNGRY_TEST_PG_PORT:-54329}"
password="powerhungry-test" # a throwaway cluster on loopback; not a secret
dir="/tmp/powerhungry-pg-$port"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "test-postgres: no PostgreSQL server found (apt-get install postgresql; scripts/install-test-deps.sh does)" >&2
  exit 1
fi
# initdb refuses to run as root: the cluster then belongs to the package's `postgres` user.
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
fi
if [ ! -f "$dir/PG_VERSION" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  pwfile="$(mktemp)"
  echo "$password" >"$pwfile"
  chmod 0644 "$pwfile"
  "${as[@]}" "$bindir/initdb" -D "$dir" -U powerhungry --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
    { cat "$dir.initdb.log" >&2; rm -f "$pwfile"; exit 1; }
  rm -f "$pwfile"
fi
if ! "${as[@]}" "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  "${as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" \
    start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
fi
echo "postgres://powerhungry:$password@127.0.0.1:$port/postgres"
