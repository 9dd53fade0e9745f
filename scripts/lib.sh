#!/usr/bin/env bash
# Shared by scripts/dev-server.sh and scripts/s3-server.sh: the start/wait/stop shape of a local background server.
# Source it; it defines functions only.

# start_background PID_FILE LOG CMD...: runs CMD in its own session, output to LOG, its pid in PID_FILE.
start_background() {
  local pid_file=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

# wait_until NAME PID_FILE LOG WHAT READY_FN: polls READY_FN every 0.5 s for 60 s. Returns 0 once it succeeds; exits 1
# when the process died (with the log's tail) or when time ran out (naming WHAT it waited for).
wait_until() {
  local name=$1 pid_file=$2 log=$3 what=$4 ready=$5
  for _ in $(seq 1 120); do
    if "$ready"; then return 0; fi
    kill -0 "$(cat "$pid_file")" 2>/dev/null || { echo "$name: $what exited; see $log" >&2; tail -5 "$log" >&2; exit 1; }
    sleep 0.5
  done
  return 1
}

# stop_background PID_FILE: TERM, up to 10 s for it to exit, then KILL; removes the pid file. Returns 1 if there was none.
stop_background() {
  local pid_file=$1 pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

# example_repo_dest DEST: for scripts/example-repo.sh and example-mix-repo.sh. Removes DEST when one of them made it
# (the ferry.exampleRepo mark), refuses any other non-empty path, creates it empty and prints its absolute path.
example_repo_dest() {
  local dest=$1 marker
  if [ -e "$dest" ]; then
    [ -d "$dest" ] || { echo "$dest exists and is not a directory" >&2; return 1; }
    if [ -n "$(ls -A "$dest")" ]; then
      marker=$(git -C "$dest" config --local --get ferry.exampleRepo 2>/dev/null || true)
      [ "$marker" = "true" ] && [ -d "$dest/.git" ] || { echo "$dest is not empty and was not made by this script; not touching it" >&2; return 1; }
    fi
    rm -rf "$dest"
  fi
  mkdir -p "$dest"
  (cd "$dest" && pwd)
}

# The example repositories' fixed identity, so they build without a git identity and give the same commit ids.
export_example_git_identity() {
  export GIT_AUTHOR_NAME=Ferry GIT_AUTHOR_EMAIL=ferry@example.invalid
  export GIT_COMMITTER_NAME=Ferry GIT_COMMITTER_EMAIL=ferry@example.invalid
  export GIT_CONFIG_NOSYSTEM=1
}

# g ARGS...: git in $DEST, with that identity, no signing and no hooks.
g() {
  git -C "$DEST" -c user.name=Ferry -c user.email=ferry@example.invalid \
    -c commit.gpgsign=false -c tag.gpgsign=false -c core.hooksPath=/dev/null "$@"
}

# example_commit DAY VSN MESSAGE (DAY 1-9): commits all of $DEST (added, changed and removed files) as MESSAGE, dated
# 2024-01-DAY at noon UTC, and tags it VSN (annotated): fixed dates give the same commit ids on every run.
example_commit() {
  (
    export GIT_AUTHOR_DATE="2024-01-0$1T12:00:00Z" GIT_COMMITTER_DATE="2024-01-0$1T12:00:00Z"
    g add -A && g commit -q -m "$3" && g tag -a "$2" -m "$3"
  )
}
