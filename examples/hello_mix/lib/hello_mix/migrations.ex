defmodule HelloMix.Migrations do
  @moduledoc """
  The app's migrations, numbered. This app has no database: each migration creates or removes a file in the data
  directory, which is enough to show what ran, in which order, and how often.
  """

  @doc "Every migration as `{version, name}`, in order."
  def all do
    [
      {1, "create_greetings"},
      {2, "add_counter"}
    ]
  end

  @doc "Applies one migration in `dir`."
  def up(version, dir), do: File.write!(Path.join(dir, "m#{version}"), "#{version}\n")

  @doc "Reverts one migration in `dir`."
  def down(version, dir), do: File.rm(Path.join(dir, "m#{version}"))
end
