#!/usr/bin/env bash
# Usage: scripts/example-repo.sh DEST
#
# (Re)creates a throwaway git repository at DEST from examples/hello, with three
# commits on branch `main`, tagged `0.1.0`, `0.2.0`, `0.3.0` and `0.4.0` (annotated tags).
# 0.2.0 bumps the version in src/hello.app.src and in rebar.config's relx
# release, and changes hello:greeting/0 (no appup: Ferry generates one).
# 0.3.0 is hot-upgradable from 0.2.0: hello_server's state becomes a record
# (code_change/3 converts it both ways, keeping the counter), the greeting
# changes, and it ships a hand-written ebin/hello.appup
# (from examples/hello/upgrades/0.3.0/).
# 0.4.0 is hot-upgradable from 0.3.0 and adds a supervised process: hello_sup
# also starts the new hello_ticker (from examples/hello/upgrades/0.4.0/). It
# removes ebin/hello.appup, so Ferry generates the appup (supervisor update,
# then restart_child of the new child).
#
# Author, committer and dates are fixed, so it works without a git identity and
# gives the same commit ids on every run. Running it again on a DEST it made
# before recreates it; it refuses to delete any other non-empty directory.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

die() { echo "example-repo.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 DEST"
DEST=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/examples/hello"
[ -f "$SRC/rebar.config" ] || die "missing $SRC"

# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
DEST=$(example_repo_dest "$DEST") || die "not creating the example repository"
export_example_git_identity

# copy the app without build output
tar -C "$SRC" --exclude=./_build --exclude=./rebar3.crashdump --exclude=./upgrades -cf - . | tar -C "$DEST" -xf -

git -c init.defaultBranch=main init -q "$DEST"
g symbolic-ref HEAD refs/heads/main
g config ferry.exampleRepo true

example_commit 1 0.1.0 "hello 0.1.0"

# 0.2.0: bump both versions, change something visible
sed -i 's/{vsn, "0.1.0"}/{vsn, "0.2.0"}/' "$DEST/src/hello.app.src"
sed -i 's/{release, {hello, "0.1.0"}/{release, {hello, "0.2.0"}/' "$DEST/rebar.config"
sed -i 's/<<"Hello from Ferry!">>/<<"Hello again from Ferry 0.2!">>/' "$DEST/src/hello.erl"
grep -q '{vsn, "0.2.0"}' "$DEST/src/hello.app.src" || die "could not bump src/hello.app.src"
grep -q '{release, {hello, "0.2.0"}' "$DEST/rebar.config" || die "could not bump rebar.config"
grep -q 'Hello again from Ferry 0.2!' "$DEST/src/hello.erl" || die "could not change hello:greeting/0"

example_commit 2 0.2.0 "hello 0.2.0"

# 0.3.0: hot upgrade from 0.2.0 with a state change and a hand-written appup
sed -i 's/{vsn, "0.2.0"}/{vsn, "0.3.0"}/' "$DEST/src/hello.app.src"
sed -i 's/{release, {hello, "0.2.0"}/{release, {hello, "0.3.0"}/' "$DEST/rebar.config"
sed -i 's/<<"Hello again from Ferry 0.2!">>/<<"Hello, hot-upgraded by Ferry 0.3!">>/' "$DEST/src/hello.erl"
cp "$SRC/upgrades/0.3.0/hello_server.erl" "$DEST/src/hello_server.erl"
mkdir -p "$DEST/ebin"
cp "$SRC/upgrades/0.3.0/hello.appup" "$DEST/ebin/hello.appup"
grep -q '{vsn, "0.3.0"}' "$DEST/src/hello.app.src" || die "could not bump src/hello.app.src to 0.3.0"
grep -q '{release, {hello, "0.3.0"}' "$DEST/rebar.config" || die "could not bump rebar.config to 0.3.0"
grep -q 'hot-upgraded by Ferry 0.3' "$DEST/src/hello.erl" || die "could not change hello:greeting/0 for 0.3.0"

example_commit 3 0.3.0 "hello 0.3.0"

# 0.4.0: a new supervised process, no hand-written appup
sed -i 's/{vsn, "0.3.0"}/{vsn, "0.4.0"}/' "$DEST/src/hello.app.src"
sed -i 's/{registered, \[hello_sup, hello_server\]}/{registered, [hello_sup, hello_server, hello_ticker]}/' "$DEST/src/hello.app.src"
sed -i 's/{release, {hello, "0.3.0"}/{release, {hello, "0.4.0"}/' "$DEST/rebar.config"
sed -i 's/<<"Hello, hot-upgraded by Ferry 0.3!">>/<<"Hello from Ferry 0.4, with a ticker!">>/' "$DEST/src/hello.erl"
cp "$SRC/upgrades/0.4.0/hello_sup.erl" "$DEST/src/hello_sup.erl"
cp "$SRC/upgrades/0.4.0/hello_ticker.erl" "$DEST/src/hello_ticker.erl"
g rm -q ebin/hello.appup
grep -q '{vsn, "0.4.0"}' "$DEST/src/hello.app.src" || die "could not bump src/hello.app.src to 0.4.0"
grep -q 'hello_ticker\]}' "$DEST/src/hello.app.src" || die "could not register hello_ticker in src/hello.app.src"
grep -q '{release, {hello, "0.4.0"}' "$DEST/rebar.config" || die "could not bump rebar.config to 0.4.0"
grep -q 'with a ticker' "$DEST/src/hello.erl" || die "could not change hello:greeting/0 for 0.4.0"

example_commit 4 0.4.0 "hello 0.4.0"

echo "example repo at $DEST: branch main, tags $(g tag -l | tr '\n' ' ')(HEAD $(g rev-parse --short HEAD))"
