#!/usr/bin/env bash
# `make demo`: a local Temporal dev server, a worker, a build host and three target hosts, then the example app
# built, deployed, started, pinged and asked for its version through the `ferry` CLI. `scripts/demo.sh stop` (or
# Ctrl-C) stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export FERRY_STATE=${FERRY_STATE:-$ROOT/.ferry}
export TEMPORAL_ADDRESS=127.0.0.1:${TEMPORAL_PORT:-7233}
export FERRY_LOG_FILE=$FERRY_STATE/ferry.log
EXAMPLE=$FERRY_STATE/example
WORKER_PID=$FERRY_STATE/worker.pid
ferry() { "$ROOT/bin/ferry" "$@"; }

stop_all() {
  if [ -d "$EXAMPLE" ] && [ -f "$WORKER_PID" ] && kill -0 "$(cat "$WORKER_PID")" 2>/dev/null; then
    (cd "$EXAMPLE" && ferry stop production >/dev/null 2>&1) || true
  fi
  if [ -f "$WORKER_PID" ]; then
    kill "$(cat "$WORKER_PID")" 2>/dev/null && echo "demo: stopped the worker" || true
    rm -f "$WORKER_PID"
  fi
  scripts/local-hosts.sh stop || true
  scripts/dev-server.sh stop || true
}

if [ "${1:-}" = stop ]; then stop_all; exit 0; fi
trap 'echo; echo "demo: interrupted, stopping everything"; stop_all; exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Temporal dev server, local hosts, example repository"
scripts/dev-server.sh start
scripts/local-hosts.sh start
[ -d "$EXAMPLE/.git" ] || scripts/example-repo.sh "$EXAMPLE"

if [ -f "$WORKER_PID" ] && kill -0 "$(cat "$WORKER_PID")" 2>/dev/null; then
  echo "worker: reusing pid $(cat "$WORKER_PID")"
else
  FERRY_LOG_FILE=$FERRY_STATE/worker.log FERRY_WORKER_FILES=${FERRY_WORKER_FILES:-$FERRY_STATE} setsid "$ROOT/bin/ferry" worker </dev/null >>"$FERRY_STATE/worker.log" 2>&1 &
  echo $! >"$WORKER_PID"
  echo "worker: started (pid $!, log $FERRY_STATE/worker.log)"
fi

cd "$EXAMPLE"
step "ferry build release --tag=0.1.0"
ferry build release --tag=0.1.0
step "ferry show releases"
ferry show releases
step "ferry deploy release to production --version=0.1.0 --start-deploy"
ferry deploy release to production --version=0.1.0 --start-deploy
step "ferry ping production"
ferry ping production
step "ferry version production"
ferry version production

cat <<MSG

Done. The Temporal UI shows every workflow of this demo:
  http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}/namespaces/default/workflows
Try more from $EXAMPLE, e.g.:
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry update production --tag=0.2.0 --start-deploy
or a hot upgrade of the running 0.1.0 nodes (same OS pid, state kept), then on to 0.3.0 and 0.4.0:
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry build upgrade --from=0.1.0 --to=0.2.0
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry deploy upgrade to production
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry build upgrade --from=0.2.0 --to=0.3.0
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry deploy upgrade to production
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry build upgrade --from=0.3.0 --to=0.4.0
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry deploy upgrade to production
  cd $EXAMPLE && FERRY_STATE=$FERRY_STATE $ROOT/bin/ferry show appups 0.4.0
Everything keeps running until \`make demo-stop\`.
MSG
