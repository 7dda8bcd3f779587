#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server (initdb in a temporary directory, a unix
# socket, stopped and deleted on exit), the database URL in $DATABASE_URL; as root, the
# server runs as the `postgres` user (it refuses to run as root).
# Usage: bench/scripts/with-postgres.sh COMMAND [ARGS...]
#   e.g. bench/scripts/with-postgres.sh sh -c 'cargo run --release -p bench -- --workers --events 300000 --database-url "$DATABASE_URL"'
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "error: no PostgreSQL server under /usr/lib/postgresql" >&2; exit 1; }
dir=$(mktemp -d)
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_server "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-k $dir -c listen_addresses='' -c max_connections=100" start >/dev/null
as_server "$bin/createdb" -h "$dir" -U postgres bench
export DATABASE_URL="postgres://postgres@localhost/bench?host=$dir"
"$@"
