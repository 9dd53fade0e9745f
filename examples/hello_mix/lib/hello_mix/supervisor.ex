defmodule HelloMix.Supervisor do
  @moduledoc "The application's top supervisor, registered under its module name (what an appup's supervisor update finds)."
  use Supervisor

  def start_link(arg), do: Supervisor.start_link(__MODULE__, arg, name: __MODULE__)

  @impl true
  def init(_arg), do: Supervisor.init([HelloMix.Counter], strategy: :one_for_one)
end
