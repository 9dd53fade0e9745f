#!/usr/bin/env bash
# Usage: scripts/example-mix-repo.sh DEST
#
# (Re)creates a throwaway git repository at DEST from examples/hello_mix (a
# dependency-free mix app), with commits on branch `main` tagged (annotated)
# `0.1.0` to `0.4.0`, each hot-upgradable from the one before:
#   0.2.0 bumps the version in mix.exs, changes HelloMix.greeting/0 and adds
#         migration 3 (add_audit_log);
#   0.3.0 changes HelloMix.Counter's state from an integer to a map
#         (code_change/3 converts it both ways) and ships a hand-written
#         appup (appup/hello_mix.appup);
#   0.4.0 adds a supervised child (HelloMix.Ticker) and a value to
#         config/runtime.exs (tier), without an appup (Ferry generates one).
# Branch `broken` (from 0.4.0) has one more commit, tagged `0.5.0`, whose
# HelloMix.Counter.code_change/3 raises: its hot upgrade must fail.
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

# 0.3.0: the counter's state becomes a map; a hand-written appup
sed -i 's/version: "0.2.0"/version: "0.3.0"/' "$DEST/mix.exs"
cat > "$DEST/lib/hello_mix/counter.ex" <<'EX'
defmodule HelloMix.Counter do
  @moduledoc "A counter kept in a GenServer's state: what a hot upgrade must keep. Since 0.3.0 the state is a map."
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, %{count: 0, since: "0.3.0"}, name: __MODULE__)

  @doc "Adds one and returns the new count."
  def bump, do: GenServer.call(__MODULE__, :bump)

  @doc "The count."
  def count, do: GenServer.call(__MODULE__, :count)

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_call(:bump, _from, %{count: c} = s), do: {:reply, c + 1, %{s | count: c + 1}}
  def handle_call(:count, _from, %{count: c} = s), do: {:reply, c, s}

  # From 0.2.0's integer to the map, and back on a downgrade.
  @impl true
  def code_change({:down, _}, %{count: c}, _extra), do: {:ok, c}
  def code_change(_old, count, _extra) when is_integer(count), do: {:ok, %{count: count, since: "upgraded"}}
end
EX
mkdir -p "$DEST/appup"
cat > "$DEST/appup/hello_mix.appup" <<'APPUP'
%% Written by hand: only the counter changes, and its state needs code_change/3.
{"0.3.0",
 [{"0.2.0", [{update, 'Elixir.HelloMix.Counter', {advanced, []}}]}],
 [{"0.2.0", [{update, 'Elixir.HelloMix.Counter', {advanced, []}}]}]}.
APPUP
example_commit 3 0.3.0 "hello_mix 0.3.0"

# 0.4.0: a new supervised child and a new runtime.exs value; the appup is generated again
sed -i 's/version: "0.3.0"/version: "0.4.0"/' "$DEST/mix.exs"
rm -r "$DEST/appup"
cat > "$DEST/lib/hello_mix/ticker.ex" <<'EX'
defmodule HelloMix.Ticker do
  @moduledoc "Added in 0.4.0 under HelloMix.Supervisor: it only remembers when it started."
  use Agent

  def start_link(_), do: Agent.start_link(fn -> System.system_time(:second) end, name: __MODULE__)
end
EX
sed -i 's/\[HelloMix.Counter\]/[HelloMix.Counter, HelloMix.Ticker]/' "$DEST/lib/hello_mix/supervisor.ex"
echo 'config :hello_mix, tier: System.get_env("HELLO_MIX_TIER", "gold")' >> "$DEST/config/runtime.exs"
grep -q 'HelloMix.Ticker]' "$DEST/lib/hello_mix/supervisor.ex" || die "could not add HelloMix.Ticker"
example_commit 4 0.4.0 "hello_mix 0.4.0"

# 0.5.0 on branch `broken`: code_change/3 raises
g checkout -q -b broken
sed -i 's/version: "0.4.0"/version: "0.5.0"/' "$DEST/mix.exs"
sed -i 's/def code_change(_old, count, _extra) when is_integer(count), do: {:ok, %{count: count, since: "upgraded"}}/def code_change(_old, _state, _extra), do: raise("0.5.0 has a broken code_change")/' "$DEST/lib/hello_mix/counter.ex"
grep -q 'broken code_change' "$DEST/lib/hello_mix/counter.ex" || die "could not break code_change"
example_commit 5 0.5.0 "hello_mix 0.5.0 (broken code_change)"
g checkout -q main

echo "example mix repo at $DEST: branch main, tags $(g tag -l | tr '\n' ' ')(HEAD $(g rev-parse --short HEAD))"
