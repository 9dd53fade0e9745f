defmodule HelloMix.Release do
  @moduledoc """
  Release tasks, run on a host with `bin/hello_mix eval "HelloMix.Release.migrate()"` (a new VM, the app not started).

  Applied versions are kept in `<data>/migrations/applied`, one per line; every call and every applied or reverted
  migration is appended to `<data>/migrations/log`. `<data>` is `$HELLO_MIX_DATA`, else `data/` in the release root.
  Every function is idempotent and prints what it did.
  """

  @doc "Applies every pending migration, or those up to `to`."
  def migrate(to \\ nil) do
    dir = dir()
    log(dir, "migrate #{to || "latest"}")
    pause(dir)
    applied = applied(dir)
    todo = for {v, name} <- HelloMix.Migrations.all(), v not in applied, to == nil or v <= to, do: {v, name}

    Enum.reduce(todo, applied, fn {v, name}, done ->
      HelloMix.Migrations.up(v, dir)
      save(dir, Enum.sort([v | done]))
      log(dir, "up #{v} #{name}")
      IO.puts("up #{v} #{name}")
      [v | done]
    end)

    if todo == [], do: IO.puts("nothing to migrate (applied: #{list(applied)})")
    :ok
  end

  @doc "Reverts every applied migration above `to` (0 reverts all), newest first."
  def rollback(to) when is_integer(to) and to >= 0 do
    dir = dir()
    log(dir, "rollback #{to}")
    pause(dir)
    names = Map.new(HelloMix.Migrations.all())
    todo = applied(dir) |> Enum.filter(&(&1 > to)) |> Enum.sort(:desc)

    Enum.each(todo, fn v ->
      HelloMix.Migrations.down(v, dir)
      save(dir, Enum.filter(applied(dir), &(&1 != v)))
      log(dir, "down #{v} #{names[v]}")
      IO.puts("down #{v} #{names[v]}")
    end)

    if todo == [], do: IO.puts("nothing to roll back (applied: #{list(applied(dir))})")
    :ok
  end

  @doc "Prints each migration as `up` (applied) or `down` (pending)."
  def status do
    dir = dir()
    applied = applied(dir)

    for {v, name} <- HelloMix.Migrations.all() do
      IO.puts("#{if v in applied, do: "up  ", else: "down"} #{v} #{name}")
    end

    :ok
  end

  defp dir do
    root = System.get_env("RELEASE_ROOT") || File.cwd!()
    dir = Path.join(System.get_env("HELLO_MIX_DATA") || Path.join(root, "data"), "migrations")
    File.mkdir_p!(dir)
    dir
  end

  defp applied(dir) do
    case File.read(Path.join(dir, "applied")) do
      {:ok, text} -> text |> String.split() |> Enum.map(&String.to_integer/1)
      {:error, :enoent} -> []
    end
  end

  defp save(dir, versions) do
    path = Path.join(dir, "applied")
    File.write!(path <> ".tmp", Enum.map(versions, &"#{&1}\n"))
    File.rename!(path <> ".tmp", path)
  end

  defp log(dir, line), do: File.write!(Path.join(dir, "log"), "#{line}\n", [:append])

  # Tests make a migration slow by writing milliseconds into <data>/migrations/pause.
  defp pause(dir) do
    case File.read(Path.join(dir, "pause")) do
      {:ok, ms} -> Process.sleep(String.to_integer(String.trim(ms)))
      _ -> :ok
    end
  end

  defp list([]), do: "none"
  defp list(versions), do: Enum.join(versions, ", ")
end
