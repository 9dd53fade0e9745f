import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Context, log } from '@temporalio/activity';
import { simpleGit } from 'simple-git';
import * as build from '../core/commands/build';
import { inDir, toShell } from '../core/commands/shell';
import { ChecksumMismatchError, InputError } from '../core/domain/errors';
import type { SshSettings, SshTarget } from '../core/domain/host';
import { version as toVersion, type StoredRelease } from '../core/domain/release';
import type { StoreDescriptor } from '../core/domain/store';
import { authOf } from './ssh/auth';
import type { SshAuth, SshPool } from './ssh/ssh-pool';
import { getRelease, type StoreFactory } from './store';

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
      const knownHosts = t.ssh?.knownHostsFile ?? auth.knownHostsFile;
      const identity = t.ssh?.identityFile ?? (process.env.FERRY_SSH_IDENTITY_FILE ? auth.identityFiles[0] : undefined);
      const sshCommand = toShell([
        'ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
        ...(identity ? ['-o', 'IdentitiesOnly=yes', '-i', identity] : []),
      ]);
      const url = `ssh://${t.buildHost.user}@${t.buildHost.address}:${t.buildHost.port}${t.buildAt}`;
      // GIT_SSH_COMMAND is built above from validated values through the one quoting helper.
      await simpleGit({ baseDir: t.projectDir, allowEnvironment: ['GIT_SSH_COMMAND'], unsafe: { allowUnsafeSshCommand: true } })
        .env({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK, GIT_SSH_COMMAND: sshCommand })
        .push(url, `${t.revision}:refs/heads/ferry-build`, ['--force', '--quiet']);
      log.info('source pushed', { host: t.buildHost.name, revision: t.revision });
    },

    /** Checks out the revision on the build host and builds the release tarball; heartbeats the output's tail. */
    async compileRelease(t: BuildTarget & { revision: string }): Promise<BuiltRelease & { output: BuildOutput }> {
      let output = '';
      let seq = 0;
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat({ seq, output: output.slice(-4000) }), 1000);
      try {
        const relDir = t.releaseDir ?? `${t.buildAt}/${build.defaultReleaseDir(t.app)}`;
        const r = await ssh.run(
          t.buildHost,
          inDir(t.buildAt, ...build.checkout(t.revision), ...build.buildRelease(t.tool), build.builtVersion(relDir)),
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
     * Brings the built tarball into the store: to a temp file on the worker (sha256 compared with the build host's), then
     * `store.put`, which checks it again while it streams and commits atomically. Repeatable: the same sha256 is kept.
     */
    async fetchRelease(t: BuildTarget & BuiltRelease & Resolved & { store: StoreDescriptor }): Promise<StoredRelease> {
      const store = stores(t.store, t.ssh);
      const remote = await ssh.run(t.buildHost, ['sha256sum', t.remoteTarball], {}, authOf(t.ssh));
      const sha256 = remote.stdout.split(/\s/)[0] ?? '';
      const existing = await store.head({ app: t.app, version: t.version });
      if (existing?.sha256 === sha256) return existing;
      const temp = join(await mkdtemp(join(tmpdir(), 'ferry-fetch-')), 'release.tar.gz');
      try {
        const got = await ssh.getFile(t.buildHost, t.remoteTarball, temp, (n) => Context.current().heartbeat({ bytes: n }), authOf(t.ssh));
        if (got !== sha256) throw new ChecksumMismatchError(`${t.buildHost.name}: ${t.remoteTarball} arrived with sha256 ${got}, expected ${sha256}`);
        if (existing) log.warn('release replaced in store', { version: t.version, old: existing.sha256, new: sha256 });
        const stored = await store.put(
          temp,
          { app: t.app, version: t.version, type: 'release', sha256, gitRevision: t.revision, gitBranch: t.branch, builtAt: new Date().toISOString() },
          (n) => Context.current().heartbeat({ bytes: n, phase: 'store' }),
        );
        log.info('release stored', { version: t.version, store: store.name });
        return stored;
      } finally {
        await rm(dirname(temp), { recursive: true, force: true });
      }
    },
  };
}

/** Reads the manifest of a stored release; VersionNotInStoreError when it is not there. Read-only. */
export function storeActivities({ stores }: { stores: StoreFactory }) {
  return {
    async lookupRelease({ store, app, version, ssh }: { store: StoreDescriptor; app: string; version: string; ssh?: SshSettings }): Promise<StoredRelease> {
      return getRelease(stores(store, ssh), { app, version });
    },

    /** The newest stored release of `app` built from `revision`, if any (`--skip-existing`). Read-only. */
    async findBuiltRelease({ store, app, revision, ssh }: { store: StoreDescriptor; app: string; revision: string; ssh?: SshSettings }): Promise<StoredRelease | undefined> {
      const built = (await stores(store, ssh).list()).filter((r) => r.app === app && r.type === 'release' && r.gitRevision === revision);
      return built.at(-1);
    },
  };
}
