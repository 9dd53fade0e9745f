defmodule HelloMix.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_mix,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      # `appup` (below): a hand-written appup/hello_mix.appup goes into ebin/, where Ferry's upgrade builder reads it.
      compilers: Mix.compilers() ++ [:appup],
      releases: [
        # A fixed cookie: a release deployed beside a running one must still reach it (stop, rpc).
        hello_mix: [cookie: "ferry_hello_mix_cookie", include_executables_for: [:unix]]
      ]
    ]
  end

  def application do
    # :sasl brings release_handler, which installs hot upgrades on the running node.
    [extra_applications: [:logger, :sasl], mod: {HelloMix.Application, []}]
  end
end

defmodule Mix.Tasks.Compile.Appup do
  @moduledoc "Copies appup/<app>.appup, when the project has one, into the application's ebin/ (and removes a stale one)."
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    app = Mix.Project.config()[:app]
    target = Path.join(Mix.Project.compile_path(), "#{app}.appup")

    case File.read("appup/#{app}.appup") do
      {:ok, text} -> File.write!(target, text)
      {:error, _} -> File.rm(target)
    end

    {:ok, []}
  end
end
