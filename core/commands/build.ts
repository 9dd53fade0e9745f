import type { Argv } from './shell';

/** A non-bare repository at BUILD_AT that accepts pushes to its checked-out branch, as edeliver sets it up. Repeatable. */
export const prepareRepository = (buildAt: string): Argv[] => [
  ['mkdir', '-p', buildAt],
  // Under a lock on the directory itself: two builds that start at once would otherwise both run `git init`.
  ['flock', buildAt, 'sh', '-c', 'cd "$1" && { [ -d .git ] || git init -q; } && git config receive.denyCurrentBranch ignore', 'init', buildAt],
];

/** The lock every build on one BUILD_AT holds: inside `.git`, which checkouts and `git clean` never touch. */
export const buildLockPath = (buildAt: string): string => `${buildAt}/.git/ferry-build.lock`;

/**
 * Runs a shell command (already quoted) while holding the BUILD_AT lock (`flock`, util-linux), so that two builds
 * sharing a build directory take turns at checkout + build instead of building each other's revision.
 */
export const withBuildLock = (buildAt: string, command: string): Argv => ['flock', buildLockPath(buildAt), 'sh', '-c', command];

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

/** A build in edeliver's steps, so that hooks can run between them: fetch deps, compile, generate the release. */
export const buildSteps = (tool: 'rebar3' | 'mix'): { deps: Argv[]; compile: Argv[]; release: Argv[] } =>
  tool === 'rebar3'
    ? { deps: [['rebar3', 'as', 'prod', 'get-deps']], compile: [['rebar3', 'as', 'prod', 'compile']], release: [['rebar3', 'as', 'prod', 'tar']] }
    : {
        deps: [['env', 'MIX_ENV=prod', 'mix', 'deps.get', '--only', 'prod']],
        compile: [['env', 'MIX_ENV=prod', 'mix', 'compile']],
        release: [['env', 'MIX_ENV=prod', 'mix', 'release', '--overwrite']],
      };

/**
 * Perl (on every Debian/Ubuntu host: perl-base is essential), with app and versions as arguments, never in the script.
 * rebar3: replaces the version `from` by `to` in relx's release tuple of rebar.config (`{release, {app, "from"}`, any
 * spacing, the atom quoted or not), and in `{vsn, "from"}` of every application's .app.src (`src/`, `apps/<name>/src/`,
 * `lib/<name>/src/`: single-app and umbrella layouts) whose vsn is `from`; other applications keep their own version.
 * mix: in `version: "from"` and `@version "from"` of mix.exs. Every file is read first; when the release version is
 * not found (rebar.config or mix.exs), it fails and writes nothing. Each file is replaced through a rename.
 */
const SET_VERSION = String.raw`my ($tool, $app, $from, $to) = @ARGV; my ($release, %text);
my @files = $tool eq 'mix' ? ('mix.exs') : ('rebar.config', sort(glob('src/*.app.src apps/*/src/*.app.src lib/*/src/*.app.src')));
for my $f (grep { -f } @files) {
  open(my $in, '<', $f) or die "$f: $!
"; local $/; my $t = <$in>; close $in;
  my $c = 0;
  if ($tool eq 'mix') {
    $c += ($t =~ s/(\bversion:\s*")\Q$from\E"/$1$to"/g);
    $c += ($t =~ s/(\@version\s+")\Q$from\E"/$1$to"/g);
  } elsif ($f eq 'rebar.config') {
    $c += ($t =~ s/(\{\s*release\s*,\s*\{\s*'?\Q$app\E'?\s*,\s*")\Q$from\E"/$1$to"/g);
  } else {
    $c += ($t =~ s/(\{\s*vsn\s*,\s*")\Q$from\E"/$1$to"/g);
  }
  next unless $c;
  $release = 1 if $f eq 'rebar.config' || $f eq 'mix.exs';
  $text{$f} = $t;
}
die "version $from of $app not found in " . ($tool eq 'mix' ? 'mix.exs' : 'rebar.config') . "
" unless $release;
for my $f (sort keys %text) {
  open(my $out, '>', "$f.ferry-tmp") or die "$f: $!
"; print $out $text{$f}; close $out or die "$f: $!
";
  rename("$f.ferry-tmp", $f) or die "$f: $!
"; print "$f: $from -> $to
";
}`;

/** Sets the version the checkout declares, from `from` to `to` (validated versions), in the build tool's files. */
export const setVersion = (tool: 'rebar3' | 'mix', app: string, from: string, to: string): Argv => ['perl', '-e', SET_VERSION, tool, app, from, to];

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

/** Removes the release directory, so an upgrade build starts from a clean tree (build output of deps is kept). */
export const cleanReleaseDir = (releaseDir: string): Argv => ['rm', '-rf', '--', releaseDir];

/** Where Ferry keeps its own files on the build host: inside `.git`, which checkouts and `git clean` never touch. */
export const ferryDir = (buildAt: string): string => `${buildAt}/.git/ferry`;

/** Where the old release's tarball goes on the build host before its `releases/<v1>` and `lib` are unpacked. */
export const oldTarballPath = (buildAt: string, app: string, v1: string): string => `${ferryDir(buildAt)}/${app}-${v1}.tar.gz`;

/**
 * Where the old release is unpacked on the build host: apart from the new one, whose `lib/<app>-<vsn>` directories
 * can have the same names (an application whose vsn did not change) and must not be overwritten before they are compared.
 */
export const oldReleaseDir = (buildAt: string): string => `${ferryDir(buildAt)}/old-release`;

/** Where Ferry's upgrade builder (activities/erlang/upgrade.escript) is written on the build host. */
export const upgradeScriptPath = (buildAt: string): string => `${ferryDir(buildAt)}/upgrade.escript`;

/** Makes Ferry's directory on the build host. Repeatable. */
export const prepareFerryDir = (buildAt: string): Argv => ['mkdir', '-p', ferryDir(buildAt)];

/** Writes stdin to `path` through a temp name (for the upgrade builder). Repeatable. */
export const writeStdin = (path: string): Argv => ['sh', '-c', 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"', 'write', path];

/**
 * Unpacks what the relup needs of the old release (`releases/<v1>` and `lib`) into an empty `dir`: relx names its
 * members `releases/...`, Ferry's mix tarballs `./releases/...`. Repeatable.
 */
export const unpackOldRelease = (tarball: string, dir: string, v1: string): Argv => [
  'sh', '-c',
  'rm -rf "$2" && mkdir -p "$2" && { tar -xzf "$1" -C "$2" "releases/$3" lib 2>/dev/null || { rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2" "./releases/$3" ./lib; }; }',
  'unpack-old', tarball, dir, v1,
];

/**
 * Ferry's upgrade builder, run by the build host's own Erlang on two release directories (relx or mix): refuses (exit
 * 3) an application whose code changed while its vsn did not, writes an appup for every upgraded application that
 * has none covering the old vsn, makes `releases/<v2>/relup` with systools:make_relup, and prints the upgrade plan as
 * one line of JSON (`{plan, appups}`). Repeatable: it rewrites the same files.
 */
export const makeRelup = (buildAt: string, app: string, v1: string, oldDir: string, v2: string, releaseDir: string): Argv => [
  'escript', upgradeScriptPath(buildAt), 'relup', app, v1, oldDir, v2, releaseDir,
];

/**
 * Fails unless the tarball's `releases/<v2>/relup` has an instruction set from `v1`: the check before an upgrade is
 * published. relx names its members `releases/...`, Ferry's mix tarballs `./releases/...`: either is read.
 */
export const tarballHasRelup = (tarball: string, v2: string, v1: string): Argv => [
  'sh', '-c', '{ tar -xzOf "$1" "releases/$2/relup" 2>/dev/null || tar -xzOf "$1" "./releases/$2/relup"; } | grep -qF "{\\"$3\\","', 'relup-in-tarball', tarball, v2, v1,
];
