defmodule HelloMix do
  @moduledoc "A dependency-free mix app that Ferry builds, deploys and migrates in its tests and demo."

  @doc "What this version says."
  def greeting, do: "Hello from Ferry's mix app!"
end
