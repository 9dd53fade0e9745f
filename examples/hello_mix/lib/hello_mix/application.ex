defmodule HelloMix.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args), do: HelloMix.Supervisor.start_link([])
end
