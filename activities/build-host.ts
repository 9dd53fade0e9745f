import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Context, log } from '@temporalio/activity';
import { simpleGit } from 'simple-git';
import * as build from '../core/commands/build';
import { inDir, toShell } from '../core/commands/shell';
import { ChecksumMismatchError, InputError, RemoteCommandError, VersionNotInStoreError } from '../core/domain/errors';
import type { SshSettings, SshTarget } from '../core/domain/host';
import { APP_NAME, generatedAppupName, releaseFileName, version as toVersion, type AppupUsed, type StoredRelease } from '../core/domain/release';
import type { StoreDescriptor } from '../core/domain/store';
import type { UpgradePlan } from '../core/domain/upgrade-plan';
import { declaredVersion, type VersionFacts } from '../core/domain/versioning';
import { reportProgress } from './heartbeat';
import { authOf } from './ssh/auth';
import { definedOnly, openSshArgv, type SshAuth, type SshPool } from './ssh/ssh-pool';
import { getRelease, newestUpgrade, type StoreFactory } from './store';

/** What the upgrade builder found: every appup it used and the plan, kept in the upgrade's manifest. */
export interface BuiltUpgrade {
  appups: AppupUsed[];
  plan: UpgradePlan;
}

/** The build host of one app, as the config names it. */
export interface BuildTarget {
  app: string;
  buildHost: SshTarget;
  buildAt: string;
  tool: 'rebar3' | 'mix';
  /** RELEASE_DIR: where the build tool leaves the release; default `<BUILD_AT>/_build/prod/rel/<app>`. */
  releaseDir?: string;
  ssh?: SshSettings;
}

export interface ResolveRequest {
  projectDir: string;
  /** A branch, tag or revision, validated by core/domain/release `gitRef`. */
  ref: string;
}

export interface Resolved {
  revision: string;
  /** The branch name when `ref` names a branch. */
  branch?: string;
}

export interface BuiltRelease {
  version: string;
  /** Absolute path of the tarball on the build host. */
  remoteTarball: string;
}

/** The end of a build's output, for `--verbose` and for the record. */
export interface BuildOutput {
  /** The last 4000 characters. */
  tail: string;
  /** How many characters the build printed in all. */
  length: number;
}

/** Steps on the build host: push the sources, build, bring the tarball into the store. */
export function buildHostActivities({ ssh, auth, stores }: { ssh: SshPool; auth: SshAuth; stores: StoreFactory }) {
  return {
    /** Resolves a branch, tag or revision of the local repository to a commit. Read-only. */
    async resolveRevision({ projectDir, ref }: ResolveRequest): Promise<Resolved> {
      const git = simpleGit(projectDir);
      const revision = (await git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim();
      if (!revision) throw new InputError(`${projectDir}: "${ref}" is not a branch, tag or revision of this repository`);
      const branches = await git.branchLocal();
      return { revision, branch: branches.all.includes(ref) ? ref : undefined };
    },

    /**
     * Pushes one revision to a non-bare repository at BUILD_AT (edeliver's way), over the system's OpenSSH with strict
     * host key checking and the same known_hosts and key as every other step. Repeatable: a second push is a no-op.
     */
    async pushSource(t: BuildTarget & { projectDir: string; revision: string }): Promise<void> {
      await ssh.run(t.buildHost, build.prepareRepository(t.buildAt).map(toShell).join(' && '), {}, authOf(t.ssh));
      // The same route as the pool's: ~/.ssh/config, known_hosts, keys and jump hosts.
      const { argv, route } = openSshArgv(t.buildHost, { ...auth, ...definedOnly(authOf(t.ssh)) });
      const sshCommand = toShell(argv);
      const url = `ssh://${route.user}@${route.address}:${route.port}${t.buildAt}`;
      // GIT_SSH_COMMAND is built above from validated values through the one quoting helper.
      await simpleGit({ baseDir: t.projectDir, allowEnvironment: ['GIT_SSH_COMMAND'], unsafe: { allowUnsafeSshCommand: true } })
        .env({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK, GIT_SSH_COMMAND: sshCommand })
        .push(url, `${t.revision}:refs/heads/ferry-build`, ['--force', '--quiet']);
      log.info('source pushed', { host: t.buildHost.name, revision: t.revision });
    },

    /**
     * One or more of a build's first steps on the build host, for builds with hooks or versioning: `checkout` (then
     * the version rewrite when `setVersion` is given), `deps`, `compile`. Repeatable: a checkout resets the tree.
     */
    async prepareBuild(
      t: BuildTarget & { revision: string; steps: ('checkout' | 'deps' | 'compile')[]; setVersion?: { from: string; to: string } },
    ): Promise<{ output: BuildOutput }> {
      const steps = build.buildSteps(t.tool);
      const commands = t.steps.flatMap((s) =>
        s === 'checkout' ? [...build.checkout(t.revision), ...(t.setVersion ? [build.setVersion(t.tool, t.app, t.setVersion.from, t.setVersion.to)] : [])] : steps[s],
      );
      let output = '';
      let seq = 0;
      const ctx = Context.current();
      const beat = setInterval(() => reportProgress(ctx, { seq, output: output.slice(-4000) }), 1000);
      try {
        await ssh.run(t.buildHost, toShell(build.withBuildLock(t.buildAt, inDir(t.buildAt, ...commands))), {
          signal: ctx.cancellationSignal,
          onOutput: (chunk) => ((output += chunk), (seq += chunk.length), (output = output.slice(-16000))),
        }, authOf(t.ssh));
        return { output: { tail: output.slice(-4000), length: seq } };
      } finally {
        clearInterval(beat);
      }
    },

    /** What `--auto-version` appends, from the local repository (commit counts, short revision, branch) and the clock (UTC). */
    async versionFacts({ projectDir, revision, branch }: { projectDir: string; revision: string; branch?: string }): Promise<VersionFacts> {
      const git = simpleGit(projectDir);
      const count = async (args: string[]) => Number((await git.raw(['rev-list', '--count', ...args])).trim());
      const containing = branch ?? (await git.raw(['branch', '--format=%(refname:short)', '--contains', revision])).split('\n').map((b) => b.trim()).find((b) => b !== '' && !b.startsWith('('));
      const now = new Date().toISOString();
      return {
        revision: (await git.raw(['rev-parse', '--short=7', revision])).trim(),
        ...(containing ? { branch: containing } : {}),
        commitCount: await count(['--all']),
        commitCountBranch: await count([revision]),
        date: now.slice(0, 10).replaceAll('-', ''),
        time: now.slice(11, 19).replaceAll(':', ''),
      };
    },

    /**
     * Checks out the revision on the build host and builds the release tarball; heartbeats the output's tail. With
     * `prepared`, prepareBuild has checked out (and compiled) already: only the release is generated.
     */
    async compileRelease(t: BuildTarget & { revision: string; cleanReleaseDir?: boolean; prepared?: boolean }): Promise<BuiltRelease & { output: BuildOutput }> {
      let output = '';
      let seq = 0;
      const ctx = Context.current();
      const beat = setInterval(() => reportProgress(ctx, { seq, output: output.slice(-4000) }), 1000);
      try {
        const relDir = t.releaseDir ?? `${t.buildAt}/${build.defaultReleaseDir(t.app)}`;
        const r = await ssh.run(
          t.buildHost,
          toShell(
            build.withBuildLock(
              t.buildAt,
              inDir(
                t.buildAt,
                ...(t.prepared ? [] : build.checkout(t.revision)),
                ...(t.cleanReleaseDir ? [build.cleanReleaseDir(relDir)] : []),
                ...(t.prepared ? build.buildSteps(t.tool).release : build.buildRelease(t.tool)),
                build.builtVersion(relDir),
              ),
            ),
          ),
          { signal: ctx.cancellationSignal, onOutput: (chunk) => ((output += chunk), (seq += chunk.length), (output = output.slice(-16000))) },
          authOf(t.ssh),
        );
        const version = toVersion(r.stdout.trim().split('\n').at(-1)?.split(' ')[1] ?? '');
        if (t.tool === 'mix') await ssh.run(t.buildHost, build.tarMixRelease(relDir, t.app, version), {}, authOf(t.ssh));
        log.info('release built', { host: t.buildHost.name, version });
        return { version, remoteTarball: build.tarballPath(relDir, t.app, version), output: { tail: output.slice(-4000), length: seq } };
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Reads the release version a revision declares (relx release in rebar.config, umbrella or not, or mix.exs; see
     * `declaredVersion`) from the local repository, without building. Undefined when it cannot tell. Read-only.
     */
    async readVersionAt({ projectDir, revision, app, tool }: { projectDir: string; revision: string; app: string; tool: 'rebar3' | 'mix' }): Promise<{ version?: string }> {
      const file = tool === 'mix' ? 'mix.exs' : 'rebar.config';
      const text = await simpleGit(projectDir).show([`${revision}:${file}`]).catch(() => '');
      return { version: declaredVersion(tool, app, text) };
    },

    /**
     * Turns the release just built (v2, in a clean release directory) into an upgrade from `from` (v1, a stored
     * release): streams v1's tarball from the store and unpacks its `releases/<v1>` and `lib` apart from v2, runs
     * Ferry's upgrade builder on both (appups per application, the relup, the plan), makes the tarball again and
     * checks that its relup names v1. InputError when an application's code changed while its vsn did not. Repeatable.
     */
    async makeRelup(t: BuildTarget & { store: StoreDescriptor; from: StoredRelease; version: string }): Promise<BuiltRelease & { upgrade: BuiltUpgrade; output: BuildOutput }> {
      const ctx = Context.current();
      const auth = authOf(t.ssh);
      const relDir = t.releaseDir ?? `${t.buildAt}/${build.defaultReleaseDir(t.app)}`;
      const v1 = t.from.version;
      let output = '';
      let seq = 0;
      const beat = setInterval(() => reportProgress(ctx, { seq, output: output.slice(-4000) }), 1000);
      const append = (c: string) => ((output += c), (seq += c.length), (output = output.slice(-16000)));
      const run = (command: string, opts: { stdin?: string } = {}) => ssh.run(t.buildHost, command, { ...opts, signal: ctx.cancellationSignal, onOutput: append }, auth);
      try {
        const oldTarball = build.oldTarballPath(t.buildAt, t.app, v1);
        await run(toShell(build.prepareFerryDir(t.buildAt)));
        const store = stores(t.store, t.ssh);
        const sent = await ssh.putStream(t.buildHost, await store.openRead(t.from), oldTarball, (n) => reportProgress(ctx, { seq, bytes: n }), auth);
        if (sent !== t.from.sha256) {
          throw new ChecksumMismatchError(`${store.name}: ${releaseFileName(t.from)} has sha256 ${sent}, the manifest says ${t.from.sha256}`);
        }
        const oldDir = build.oldReleaseDir(t.buildAt);
        await run(toShell(build.unpackOldRelease(oldTarball, oldDir, v1)));
        const script = await readFile(join(__dirname, 'erlang', 'upgrade.escript'), 'utf8');
        await run(toShell(build.writeStdin(build.upgradeScriptPath(t.buildAt))), { stdin: script });
        // Its stdout is the plan (JSON), kept out of the build output; its stderr (warnings, a refusal) goes in.
        const relup = build.makeRelup(t.buildAt, t.app, v1, oldDir, t.version, relDir);
        const made = await ssh.run(t.buildHost, toShell(relup), { signal: ctx.cancellationSignal, allowFailure: true }, auth);
        append(made.stderr);
        if (made.exitCode === 3) throw new InputError(`upgrade ${v1} -> ${t.version} refused: ${made.stderr.trim()}`);
        if (made.exitCode !== 0) throw new RemoteCommandError(t.buildHost.name, toShell(relup), made.exitCode, made.stderr);
        const upgrade = JSON.parse(made.stdout.trim().split('\n').at(-1) ?? '') as BuiltUpgrade;
        await run(t.tool === 'mix' ? toShell(build.tarMixRelease(relDir, t.app, t.version)) : inDir(t.buildAt, ['rebar3', 'as', 'prod', 'tar']));
        const remoteTarball = build.tarballPath(relDir, t.app, t.version);
        const check = build.tarballHasRelup(remoteTarball, t.version, v1);
        const checked = await ssh.run(t.buildHost, toShell(check), { allowFailure: true }, auth);
        if (checked.exitCode !== 0) {
          throw new RemoteCommandError(t.buildHost.name, toShell(check), checked.exitCode, `the tarball's releases/${t.version}/relup has no upgrade from ${v1}`);
        }
        log.info('relup built', { host: t.buildHost.name, from: v1, to: t.version, appups: upgrade.appups.length, risks: upgrade.plan.risks.length });
        return { version: t.version, remoteTarball, upgrade, output: { tail: output.slice(-4000), length: seq } };
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Brings the built tarball (a release, or an upgrade when `upgrade` is set) into the store: to a temp file on the
     * worker (sha256 compared with the build host's), then `store.put`, which checks it again while it streams and
     * commits atomically. Repeatable: the same sha256 is kept.
     */
    async fetchRelease(
      t: BuildTarget & BuiltRelease & Resolved & { store: StoreDescriptor; upgrade?: Partial<BuiltUpgrade> & { fromVersion: string } },
    ): Promise<StoredRelease> {
      const store = stores(t.store, t.ssh);
      const ref = { app: t.app, version: t.version, type: t.upgrade ? ('upgrade' as const) : ('release' as const) };
      const remote = await ssh.run(t.buildHost, ['sha256sum', t.remoteTarball], {}, authOf(t.ssh));
      const sha256 = remote.stdout.split(/\s/)[0] ?? '';
      const existing = await store.head(ref);
      if (existing?.sha256 === sha256) return existing;
      const temp = join(await mkdtemp(join(tmpdir(), 'ferry-fetch-')), 'release.tar.gz');
      // Captured now: stream callbacks can run in another async context than this activity's.
      const ctx = Context.current();
      try {
        const got = await ssh.getFile(t.buildHost, t.remoteTarball, temp, (n) => reportProgress(ctx, { bytes: n }), authOf(t.ssh));
        if (got !== sha256) throw new ChecksumMismatchError(`${t.buildHost.name}: ${t.remoteTarball} arrived with sha256 ${got}, expected ${sha256}`);
        if (existing) log.warn('release replaced in store', { version: t.version, old: existing.sha256, new: sha256 });
        // Generated appups are kept beside the upgrade, so a user can read, edit and reuse them.
        for (const a of t.upgrade?.appups ?? []) {
          if (a.source === 'generated' && APP_NAME.test(a.app)) await store.putText(generatedAppupName(ref, a.app), a.text);
        }
        const stored = await store.put(
          temp,
          {
            ...ref,
            sha256,
            gitRevision: t.revision,
            gitBranch: t.branch,
            builtAt: new Date().toISOString(),
            ...(t.upgrade ? { fromVersion: t.upgrade.fromVersion, appups: t.upgrade.appups, plan: t.upgrade.plan } : {}),
          },
          (n) => reportProgress(ctx, { bytes: n, phase: 'store' }),
        );
        log.info(t.upgrade ? 'upgrade stored' : 'release stored', { version: t.version, store: store.name });
        return stored;
      } finally {
        await rm(dirname(temp), { recursive: true, force: true });
      }
    },
  };
}

/** Reads manifests of the release store. Read-only. */
export function storeActivities({ stores }: { stores: StoreFactory }) {
  return {
    /** The manifest of a stored release or upgrade; VersionNotInStoreError when it is not there. */
    async lookupRelease({ store, app, version, type, ssh }: { store: StoreDescriptor; app: string; version: string; type?: 'release' | 'upgrade'; ssh?: SshSettings }): Promise<StoredRelease> {
      return getRelease(stores(store, ssh), { app, version, type });
    },

    /** The newest stored release of `app` built from `revision`, if any (`--skip-existing`). */
    async findBuiltRelease({ store, app, revision, ssh }: { store: StoreDescriptor; app: string; revision: string; ssh?: SshSettings }): Promise<StoredRelease | undefined> {
      const built = (await stores(store, ssh).list()).filter((r) => r.app === app && r.type === 'release' && r.gitRevision === revision);
      return built.at(-1);
    },

    /** The manifest of a stored release or upgrade, or null when the store does not have it. */
    async findRelease({ store, app, version, type, ssh }: { store: StoreDescriptor; app: string; version: string; type?: 'release' | 'upgrade'; ssh?: SshSettings }): Promise<StoredRelease | null> {
      return (await stores(store, ssh).head({ app, version, type })) ?? null;
    },

    /** The newest upgrade of `app` in the store; VersionNotInStoreError when there is none. */
    async newestUpgrade({ store, app, ssh }: { store: StoreDescriptor; app: string; ssh?: SshSettings }): Promise<StoredRelease> {
      const s = stores(store, ssh);
      const found = await newestUpgrade(s, app);
      if (!found) throw new VersionNotInStoreError(`the release store ${s.name} has no upgrade of ${app}; build one with \`ferry build upgrade --from=<version>\``);
      return found;
    },
  };
}
