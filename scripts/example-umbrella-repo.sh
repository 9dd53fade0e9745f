#!/usr/bin/env bash
# Usage: scripts/example-umbrella-repo.sh DEST
#
# (Re)creates two throwaway git repositories from examples/: DEST-numfmt, a library
# (tags 1.0.0 and 1.1.0, which adds numfmt_si), and DEST, the umbrella release
# `tally` (apps/tally_core, apps/tally_report) that depends on it through
# {git, "file://DEST-numfmt", {tag, ...}} in rebar.config (and its rebar.lock). Each commit of DEST is
# tagged with the release version; the applications have versions of their own:
#   1.0.0  tally_core 0.1.0, tally_report 0.1.0, numfmt 1.0.0
#   2.0.0  tally_core 0.2.0 (tally_counter's state record gains a field; code_change/3
#          converts it), tally_report 0.2.0, numfmt 1.1.0, and a new application
#          tally_audit 0.1.0 (apps/tally_audit)
#   3.0.0  tally_audit removed, tally_report 0.3.0 with its own appup
#          (apps/tally_report/ebin/tally_report.appup), a new heading in sys.config
#   4.0.0  tally_core 0.3.0: tally_counter moves under a new supervisor,
#          tally_counter_sup (a restructured supervision tree)
# The files of each version are under examples/tally/upgrades/<vsn>/ and
# examples/numfmt/upgrades/<vsn>/. Fixed identity and dates, as example-repo.sh.
# Running it again on a DEST it made before recreates both; any other non-empty
# directory is refused.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

die() { echo "example-umbrella-repo.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 DEST"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TALLY="$ROOT/examples/tally"
NUMFMT="$ROOT/examples/numfmt"
[ -f "$TALLY/rebar.config" ] && [ -f "$NUMFMT/rebar.config" ] || die "missing $TALLY or $NUMFMT"

# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
export_example_git_identity
DEP=$(example_repo_dest "$1-numfmt") || die "not creating the dependency's repository"
DEST=$(example_repo_dest "$1") || die "not creating the example repository"
TALLY_DEST=$DEST

# new_repo SRC: copies SRC (without build output and upgrades/) into $DEST and makes it a repository.
new_repo() {
  tar -C "$1" --exclude=./_build --exclude=./upgrades -cf - . | tar -C "$DEST" -xf -
  git -c init.defaultBranch=main init -q "$DEST"
  g symbolic-ref HEAD refs/heads/main
  g config ferry.exampleRepo true
}

# lock TAG: writes rebar.lock as `rebar3 lock` does, with numfmt at TAG. The lock is committed: rebar3 updates a
# dependency already fetched into _build (as on a build host) only when the lock says so, never for rebar.config alone.
lock() {
  printf '[{<<"numfmt">>,\n  {git,"file://%s",\n       {ref,"%s"}},\n  0}].\n' "$DEP" "$(git -C "$DEP" rev-parse "$1^{commit}")" >"$DEST/rebar.lock"
}

# bump FILE FROM TO: replaces the text FROM by TO in $DEST/FILE; fails when FROM is not there.
bump() {
  grep -qF -- "$2" "$DEST/$1" || die "$1 has no $2"
  FROM=$2 TO=$3 perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$DEST/$1"
}

# The files of each version are copied with a new mtime (cp -R, not -a): a file of the same size and mtime as the one
# it replaces would look unchanged to git.

# the dependency
DEST=$DEP
new_repo "$NUMFMT"
example_commit 1 1.0.0 "numfmt 1.0.0"
cp -R "$NUMFMT/upgrades/1.1.0/." "$DEST/"
example_commit 2 1.1.0 "numfmt 1.1.0"

# the umbrella release
DEST=$TALLY_DEST
new_repo "$TALLY"
bump rebar.config NUMFMT_REPO "$DEP"
lock 1.0.0
example_commit 1 1.0.0 "tally 1.0.0"

cp -R "$TALLY/upgrades/2.0.0/." "$DEST/"
bump rebar.config '{tag, "1.0.0"}' '{tag, "1.1.0"}'
lock 1.1.0
bump rebar.config '{tally, "1.0.0"}, [tally_core, tally_report, sasl]' '{tally, "2.0.0"}, [tally_core, tally_report, tally_audit, sasl]'
example_commit 2 2.0.0 "tally 2.0.0"

g rm -rq apps/tally_audit
cp -R "$TALLY/upgrades/3.0.0/." "$DEST/"
bump rebar.config '{tally, "2.0.0"}, [tally_core, tally_report, tally_audit, sasl]' '{tally, "3.0.0"}, [tally_core, tally_report, sasl]'
example_commit 3 3.0.0 "tally 3.0.0"

cp -R "$TALLY/upgrades/4.0.0/." "$DEST/"
bump rebar.config '{tally, "3.0.0"}' '{tally, "4.0.0"}'
example_commit 4 4.0.0 "tally 4.0.0"

echo "example umbrella repo at $DEST (tags $(g tag -l | tr '\n' ' ')), its dependency at $DEP"
