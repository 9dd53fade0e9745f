defmodule HelloMix.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [{Agent, fn -> 0 end}]
    Supervisor.start_link(children, strategy: :one_for_one, name: HelloMix.Supervisor)
  end
end
