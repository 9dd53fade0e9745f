defmodule HelloMix.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello_mix,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      releases: [
        # A fixed cookie: a release deployed beside a running one must still reach it (stop, rpc).
        hello_mix: [cookie: "ferry_hello_mix_cookie", include_executables_for: [:unix]]
      ]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {HelloMix.Application, []}]
  end
end
