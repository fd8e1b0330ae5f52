#!/usr/bin/env bash
# Usage: scripts/with-services.sh COMMAND...
# Starts a private PostgreSQL, Redis and, when Java and Maven are there, an OpenSearch node (free loopback
# ports, a temporary folder), runs COMMAND with DATABASE_URL, CELERY_BROKER_URL and SEARCH_URL pointing at them,
# then stops them all, whatever COMMAND's outcome. SEARCH_NODE=off leaves the search node out.
set -euo pipefail

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/bunryu-services.XXXXXX)
chmod 755 "$work"
mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres: "$work/pg"
redis_pid=""
search_pid=""

stop_services() {
  status=$?
  as_postgres "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$search_pid" ]; then kill "$search_pid" 2>/dev/null && wait "$search_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  exit "$status"
}
trap stop_services EXIT
trap 'exit 130' INT TERM

# The search node starts first, in the background: its JVM warms up while PostgreSQL initialises.
search_port=""
if [ "${SEARCH_NODE:-on}" != off ] && command -v java >/dev/null && command -v mvn >/dev/null; then
  search_port=$(free_port)
  "$(dirname "$0")/search-node.sh" "$search_port" "$work/search" >"$work/search.log" 2>&1 &
  search_pid=$!
fi

pg_port=$(free_port)
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -U bunryu --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
as_postgres "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 60 start \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U bunryu bunryu

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

if [ -n "$search_pid" ]; then
  for _ in $(seq 6000); do  # up to 10 min: the first start resolves the jars with Maven and makes the CDS archive
    curl -sf "http://127.0.0.1:$search_port/_cluster/health" >/dev/null 2>&1 && break
    kill -0 "$search_pid" 2>/dev/null || { cat "$work/search.log" >&2; echo "search node did not start" >&2; exit 1; }
    sleep 0.1
  done
  export SEARCH_URL="opensearch://127.0.0.1:$search_port"
  export SEARCH_NODE_PORT="$search_port"
fi

export DATABASE_URL="postgres://bunryu@127.0.0.1:$pg_port/bunryu"
export SERVICES_PG_DATA="$work/pg/data" SERVICES_PG_BIN="$pg_bin"  # for tests that restart the database
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"
export CELERY_RESULT_BACKEND="redis://127.0.0.1:$redis_port/1"
echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port${search_port:+, OpenSearch on 127.0.0.1:$search_port} (in $work)"
"$@"
