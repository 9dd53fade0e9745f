import type { Argv } from './shell';

/** A non-bare repository at BUILD_AT that accepts pushes to its checked-out branch, as edeliver sets it up. Repeatable. */
export const prepareRepository = (buildAt: string): Argv[] => [
  ['mkdir', '-p', buildAt],
  ['sh', '-c', 'cd "$1" && { [ -d .git ] || git init -q; } && git config receive.denyCurrentBranch ignore', 'init', buildAt],
];

/** Checks out exactly `revision` and removes untracked sources; keeps ignored build output for speed. */
export const checkout = (revision: string): Argv[] => [
  ['git', 'checkout', '-q', '--force', '--detach', revision],
  ['git', 'clean', '-fdq'],
];

/** Builds a release tarball with the detected tool. */
export const buildRelease = (tool: 'rebar3' | 'mix'): Argv[] =>
  tool === 'rebar3'
    ? [['rebar3', 'as', 'prod', 'tar']]
    : [
        ['env', 'MIX_ENV=prod', 'mix', 'compile'],
        ['env', 'MIX_ENV=prod', 'mix', 'release', '--overwrite'],
      ];

/** Prints `<erts-vsn> <release-vsn>` of the release just built. */
export const builtVersion = (releaseDir: string): Argv => ['cat', `${releaseDir}/releases/start_erl.data`];

/** The directory a build tool puts its release in, relative to BUILD_AT. */
export const defaultReleaseDir = (tool: 'rebar3' | 'mix', app: string): string =>
  tool === 'rebar3' ? `_build/prod/rel/${app}` : `_build/prod/rel/${app}`;

/** The tarball a build tool writes for one version, relative to BUILD_AT. */
export const tarballPath = (tool: 'rebar3' | 'mix', app: string, v: string): string =>
  tool === 'rebar3' ? `_build/prod/rel/${app}/${app}-${v}.tar.gz` : `_build/prod/${app}-${v}.tar.gz`;

/** Makes a tarball of a mix release (mix has none by default). */
export const tarMixRelease = (app: string, v: string): Argv => [
  'tar', '-czf', `_build/prod/${app}-${v}.tar.gz`, '-C', `_build/prod/rel/${app}`, '.',
];
