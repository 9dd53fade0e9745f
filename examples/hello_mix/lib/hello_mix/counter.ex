defmodule HelloMix.Counter do
  @moduledoc "A counter kept in a GenServer's state: what a hot upgrade must keep."
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, 0, name: __MODULE__)

  @doc "Adds one and returns the new count."
  def bump, do: GenServer.call(__MODULE__, :bump)

  @doc "The count."
  def count, do: GenServer.call(__MODULE__, :count)

  @impl true
  def init(count), do: {:ok, count}

  @impl true
  def handle_call(:bump, _from, count), do: {:reply, count + 1, count + 1}
  def handle_call(:count, _from, count), do: {:reply, count, count}
end
