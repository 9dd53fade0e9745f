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

/** The directory a build tool puts its release in, relative to BUILD_AT (RELEASE_DIR overrides it). */
export const defaultReleaseDir = (app: string): string => `_build/prod/rel/${app}`;

/** The tarball of one version: relx writes it into the release directory; for mix, Ferry makes it there. */
export const tarballPath = (releaseDir: string, app: string, v: string): string => `${releaseDir}/${app}-${v}.tar.gz`;

/** Makes a tarball of a mix release (mix has none by default), beside where relx would put one. It is written
 *  outside the directory first: tar fails on a file that grows while it reads the directory. */
export const tarMixRelease = (releaseDir: string, app: string, v: string): Argv => [
  'sh',
  '-c',
  'tmp=$(mktemp) && tar -czf "$tmp" --exclude "*.tar.gz" -C "$2" . && mv -f "$tmp" "$1"',
  'tar',
  tarballPath(releaseDir, app, v),
  releaseDir,
];
