#!/usr/bin/env bash
# Usage: scripts/example-mix-repo.sh DEST
#
# (Re)creates a throwaway git repository at DEST from examples/hello_mix (a
# dependency-free mix app), with two commits on branch `main`, tagged `0.1.0`
# and `0.2.0` (annotated tags). 0.2.0 bumps the version in mix.exs, changes
# HelloMix.greeting/0 and adds migration 3 (add_audit_log).
#
# Fixed author, committer and dates, as scripts/example-repo.sh. Running it again
# on a DEST it made before recreates it; any other non-empty directory is refused.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

die() { echo "example-mix-repo.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 DEST"
DEST=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/examples/hello_mix"
[ -f "$SRC/mix.exs" ] || die "missing $SRC"

# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
DEST=$(example_repo_dest "$DEST") || die "not creating the example repository"
export_example_git_identity

tar -C "$SRC" --exclude=./_build --exclude=./deps -cf - . | tar -C "$DEST" -xf -

git -c init.defaultBranch=main init -q "$DEST"
g symbolic-ref HEAD refs/heads/main
g config ferry.exampleRepo true

example_commit 1 0.1.0 "hello_mix 0.1.0"

# 0.2.0: bump the version, change the greeting, add migration 3
sed -i 's/version: "0.1.0"/version: "0.2.0"/' "$DEST/mix.exs"
sed -i "s/Hello from Ferry's mix app!/Hello again from Ferry's mix app 0.2!/" "$DEST/lib/hello_mix.ex"
sed -i 's/{2, "add_counter"}/{2, "add_counter"},\n      {3, "add_audit_log"}/' "$DEST/lib/hello_mix/migrations.ex"
grep -q 'version: "0.2.0"' "$DEST/mix.exs" || die "could not bump mix.exs"
grep -q 'mix app 0.2!' "$DEST/lib/hello_mix.ex" || die "could not change HelloMix.greeting/0"
grep -q '{3, "add_audit_log"}' "$DEST/lib/hello_mix/migrations.ex" || die "could not add migration 3"

example_commit 2 0.2.0 "hello_mix 0.2.0"

echo "example mix repo at $DEST: branch main, tags $(g tag -l | tr '\n' ' ')(HEAD $(g rev-parse --short HEAD))"
