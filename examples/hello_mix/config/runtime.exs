import Config

# Evaluated on every boot of the release, with the host's environment (rel/env.sh.eex reads <release root>/host.env).
config :hello_mix, region: System.get_env("HELLO_MIX_REGION", "unset")
