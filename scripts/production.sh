#!/usr/bin/env bash
# The production topology of docker-compose.yml without Docker: PostgreSQL (Debian's package), the Temporal server
# and its SQL schema tool built from the Go module proxy at the compose file's server version, the schemas and the
# namespace set up by scripts/temporal-setup.sh (the script the compose jobs run), and N Ferry workers.
#   scripts/production.sh build     builds temporal-server and temporal-sql-tool once (cached; `go`, 5-30 min)
#   scripts/production.sh start     build if needed, then PostgreSQL, schemas, server, namespace, workers
#   scripts/production.sh workers   starts the workers that are not running (what Compose's restart policy does)
#   scripts/production.sh stop|status|clean   (clean: stop, then delete this topology's data)
# Env: FERRY_STATE (default .ferry; data, logs and pids in $FERRY_STATE/production), FERRY_PROD_PORT_BASE (17000:
#      PostgreSQL on BASE+32, Temporal's services on BASE+34..69), TEMPORAL_PORT (the frontend, default BASE+33),
#      FERRY_PROD_WORKERS (3), POSTGRES_PASSWORD (temporal), FERRY_TEMPORAL_BUILD (the build cache, default
#      .ferry/temporal-server/<version>). Shared versions and settings: scripts/temporal.env.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a
# shellcheck source=scripts/temporal.env
. scripts/temporal.env
set +a
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
STATE=${FERRY_STATE:-$PWD/.ferry}
DIR=$STATE/production
BUILD=${FERRY_TEMPORAL_BUILD:-$PWD/.ferry/temporal-server/$TEMPORAL_SERVER_VERSION}
BASE=${FERRY_PROD_PORT_BASE:-17000}
PG_PORT=$((BASE + 32))
PORT=${TEMPORAL_PORT:-$((BASE + 33))}
WORKERS=${FERRY_PROD_WORKERS:-3}
PASSWORD=${POSTGRES_PASSWORD:-temporal}
TEMPORAL_CLI=$PWD/.venv/bin/temporal
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

# PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user the Debian package creates.
as_pg() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi; }

build() {
  if [ -x "$BUILD/bin/temporal-server" ] && [ -x "$BUILD/bin/temporal-sql-tool" ] && [ -d "$BUILD/schema" ]; then return 0; fi
  command -v go >/dev/null || { echo "production: building the Temporal server needs Go (1.25 or newer) on PATH" >&2; exit 1; }
  echo "production: building go.temporal.io/server v$TEMPORAL_SERVER_VERSION (server and SQL tool) into $BUILD; this takes a while once"
  local go_dir=$PWD/.ferry/temporal-server/go tmp=$BUILD.tmp start
  start=$(date +%s)
  rm -rf "$tmp" && mkdir -p "$tmp/bin"
  # `nice`: on a small machine the build competes with everything else.
  GOMODCACHE=$go_dir/mod GOCACHE=$go_dir/cache GOBIN=$tmp/bin CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    nice -n 15 go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  mv "$tmp/bin/server" "$tmp/bin/temporal-server"
  mv "$tmp/bin/sql" "$tmp/bin/temporal-sql-tool"
  # The schemas and the dynamic config the images ship (/etc/temporal/schema, config/dynamicconfig/docker.yaml).
  local src=$go_dir/mod/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION
  cp -r "$src/schema" "$tmp/schema" && mkdir -p "$tmp/config" && cp "$src/config/dynamicconfig/docker.yaml" "$tmp/config/"
  chmod -R u+w "$tmp"
  rm -rf "$BUILD" && mv "$tmp" "$BUILD"
  # The module and build caches (about 4 GB) are not needed to run: only the binaries and schemas are kept.
  chmod -R u+w "$go_dir" && rm -rf "$go_dir"
  echo "production: built in $(($(date +%s) - start)) s"
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
temporal_ready() { "$TEMPORAL_CLI" operator cluster health --address "127.0.0.1:$PORT" >/dev/null 2>&1; }

start_postgres() {
  [ -n "$PG_BIN" ] || { echo "production: PostgreSQL is missing; run: apt-get install -y postgresql (or make bootstrap-production)" >&2; exit 1; }
  if pg_ready; then return 0; fi
  if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    mkdir -p "$DIR/pg" && printf '%s\n' "$PASSWORD" >"$DIR/pg.pw"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg" "$DIR/pg.pw"
    chmod 700 "$DIR/pg"
    as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U "$POSTGRES_USER" --pwfile="$DIR/pg.pw" --auth=scram-sha-256 -E UTF8 >"$DIR/initdb.log"
    rm -f "$DIR/pg.pw"
  fi
  local as=()
  [ "$(id -u)" = 0 ] && as=(setpriv --reuid=postgres --regid=postgres --init-groups)
  start_background "$DIR/postgres.pid" "$DIR/postgres.log" \
    "${as[@]}" "$PG_BIN/postgres" -D "$DIR/pg" -p "$PG_PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200
  wait_until postgres "$DIR/postgres.pid" "$DIR/postgres.log" PostgreSQL pg_ready || { echo "production: PostgreSQL did not start; see $DIR/postgres.log" >&2; exit 1; }
}

# The environment docker-compose.yml gives the temporal service, on this machine's ports.
server_env() {
  export DB DB_PORT=$PG_PORT POSTGRES_USER POSTGRES_PWD=$PASSWORD SQL_PASSWORD=$PASSWORD POSTGRES_SEEDS=127.0.0.1 BIND_ON_IP=127.0.0.1
  export FRONTEND_GRPC_PORT=$PORT FRONTEND_HTTP_PORT=$((BASE + 43)) FRONTEND_MEMBERSHIP_PORT=$((BASE + 63))
  export HISTORY_GRPC_PORT=$((BASE + 34)) HISTORY_MEMBERSHIP_PORT=$((BASE + 64)) MATCHING_GRPC_PORT=$((BASE + 35))
  export MATCHING_MEMBERSHIP_PORT=$((BASE + 65)) WORKER_GRPC_PORT=$((BASE + 39)) WORKER_MEMBERSHIP_PORT=$((BASE + 69))
  export LOG_LEVEL=${TEMPORAL_LOG_LEVEL:-warn} DYNAMIC_CONFIG_FILE_PATH=$BUILD/config/docker.yaml
  export TEMPORAL_SQL_TOOL=$BUILD/bin/temporal-sql-tool TEMPORAL_SCHEMA_ROOT=$BUILD/schema
  export TEMPORAL_ADDRESS=127.0.0.1:$PORT TEMPORAL_CLI
}

start_workers() {
  local i
  for i in $(seq 1 "$WORKERS"); do
    if [ -f "$DIR/worker-$i.pid" ] && kill -0 "$(cat "$DIR/worker-$i.pid")" 2>/dev/null; then continue; fi
    start_background "$DIR/worker-$i.pid" "$DIR/worker-$i.log" env TEMPORAL_ADDRESS="127.0.0.1:$PORT" \
      TEMPORAL_NAMESPACE="$TEMPORAL_NAMESPACE" FERRY_LOG_LEVEL="${FERRY_LOG_LEVEL:-warn}" "$PWD/bin/ferry" worker
  done
}

stop_all() {
  local f
  for f in "$DIR"/worker-*.pid; do [ -f "$f" ] && stop_background "$f"; done
  stop_background "$DIR/temporal.pid" || true
  if [ -f "$DIR/postgres.pid" ]; then
    # SIGINT: PostgreSQL's fast shutdown (TERM would wait for every client to leave).
    local pid
    pid=$(cat "$DIR/postgres.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$DIR/postgres.pid"
  fi
}

case "${1:-start}" in
  build) build ;;
  start)
    build
    mkdir -p "$DIR"
    start_postgres
    server_env
    scripts/temporal-setup.sh schema >"$DIR/schema.log" 2>&1 || { echo "production: schema setup failed; see $DIR/schema.log" >&2; tail -5 "$DIR/schema.log" >&2; exit 1; }
    if ! temporal_ready; then
      start_background "$DIR/temporal.pid" "$DIR/temporal.log" "$BUILD/bin/temporal-server" start
      wait_until temporal "$DIR/temporal.pid" "$DIR/temporal.log" "the Temporal server" temporal_ready || { echo "production: the Temporal server did not become healthy; see $DIR/temporal.log" >&2; exit 1; }
    fi
    scripts/temporal-setup.sh namespace
    # A new namespace reaches every service's cache within seconds: wait until the frontend serves it.
    for _ in $(seq 1 60); do "$TEMPORAL_CLI" workflow list -n "$TEMPORAL_NAMESPACE" --address "127.0.0.1:$PORT" --limit 1 >/dev/null 2>&1 && break; sleep 1; done
    start_workers
    echo "production: PostgreSQL on 127.0.0.1:$PG_PORT, Temporal $TEMPORAL_SERVER_VERSION on 127.0.0.1:$PORT, $WORKERS workers (logs in $DIR)"
    ;;
  workers) start_workers ;;
  stop) stop_all; echo "production: stopped" ;;
  clean) stop_all; rm -rf "$DIR" ;;
  status)
    if temporal_ready; then echo "production: Temporal serving on 127.0.0.1:$PORT"; else echo "production: Temporal not running on 127.0.0.1:$PORT"; exit 1; fi
    ;;
  *) echo "usage: $0 build|start|workers|stop|status|clean" >&2; exit 2 ;;
esac
