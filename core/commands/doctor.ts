import type { Argv } from './shell';

/** Creates the directory if needed and checks that the login user can write to it. Repeatable. */
export const writable = (dir: string): Argv => ['sh', '-c', 'mkdir -p "$1" && test -w "$1"', 'writable', dir];

/** Prints the kilobytes available on the filesystem that holds `dir` (its nearest existing parent). */
export const freeKb = (dir: string): Argv => [
  'sh',
  '-c',
  'd=$1; while [ ! -e "$d" ]; do d=$(dirname "$d"); done; df -Pk "$d" | awk "NR==2 {print \\$4}"',
  'df',
  dir,
];

/** Prints the first line of `<tool> --version`-style output, or `PATH=...` and exits 127 when the tool is not on the login PATH. */
export const toolVersion = (tool: 'git' | 'erl' | 'rebar3' | 'mix' | 'tar' | 'sha256sum'): Argv => {
  const probe: Record<typeof tool, string> = {
    git: 'git --version',
    erl: `erl -noshell -eval 'io:format("OTP ~s~n", [erlang:system_info(otp_release)]), halt().'`,
    rebar3: 'rebar3 version',
    mix: 'mix --version 2>/dev/null | tail -1',
    tar: 'tar --version | head -1',
    sha256sum: 'sha256sum --version | head -1',
  };
  return ['sh', '-c', `command -v "$1" >/dev/null || { echo "PATH=$PATH"; exit 127; }; ${probe[tool]}`, 'probe', tool];
};
