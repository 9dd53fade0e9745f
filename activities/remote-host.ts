import { readFile, stat } from 'node:fs/promises';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import * as node from '../core/commands/node';
import * as release from '../core/commands/release';
import { parseSupervision, supervision } from '../core/commands/supervision';
import { and, toShell, type Argv } from '../core/commands/shell';
import {
  ChecksumMismatchError,
  CommandTimedOutError,
  CorruptReleaseError,
  DiskFullError,
  HealthCheckFailedError,
  InputError,
  NodeNotReadyError,
  RemoteCommandError,
} from '../core/domain/errors';
import { nodeLabel, releaseLayout, type HostTarget, type NodeSettings, type SshSettings } from '../core/domain/host';
import { planPrune } from '../core/domain/prune';
import { releaseFileName, type StoredRelease } from '../core/domain/release';
import type { TransferMode } from '../core/domain/requests';
import type { NodeSupervision } from '../core/domain/supervision';
import type { StoreDescriptor } from '../core/domain/store';
import { reportProgress } from './heartbeat';
import type { SshPool } from './ssh/ssh-pool';
import { authOf } from './ssh/auth';
import type { StoreFactory } from './store';

/** How long a host may take to start fetching a presigned URL. */
const PRESIGNED_URL_SECONDS = 15 * 60;

/** One host of one app: what every node step takes. */
export interface OnHost {
  host: HostTarget;
  app: string;
  ssh?: SshSettings;
}

/** A stored release and the host it goes to. */
export interface ReleaseOnHost extends OnHost {
  release: StoredRelease;
  /** The release store; the worker builds its client with its own credentials. */
  store: StoreDescriptor;
}

/** What a node reports about itself. */
export interface NodeState {
  host: string;
  running: boolean;
  /** The release the node runs (status current or permanent), when it runs. */
  version?: string;
  /** The node's OS pid, when asked for (hot upgrades compare it before and after). */
  pid?: number;
  output?: string;
}

/** What the release script printed for an upgrade or downgrade; its exit code alone proves nothing. */
export interface ScriptOutcome {
  exitCode: number;
  output: string;
}

const COOKIE = /^[A-Za-z0-9_.@+=-]{1,255}$/;

/**
 * The cookie in COOKIE_FILE on the worker machine (a directory FERRY_WORKER_FILES allows, checked before any
 * activity runs): one line in a regular file of at most 4 KiB; never logged, never in a message.
 */
async function readCookie(file: string): Promise<string> {
  let text: string;
  try {
    const s = await stat(file);
    if (!s.isFile() || s.size > 4096) throw new InputError(`COOKIE_FILE ${file}: not a regular file of at most 4 KiB on the worker machine`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`COOKIE_FILE ${file}: cannot read it on the worker machine (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const cookie = text.trim();
  if (!COOKIE.test(cookie)) throw new InputError(`COOKIE_FILE ${file}: the cookie must be one line of letters, digits and _ . @ + = -`);
  return cookie;
}

/** Steps on target hosts: upload, unpack, configure, and the release script's start/stop/ping. */
export function remoteHostActivities({ ssh, stores }: { ssh: SshPool; stores: StoreFactory }) {
  const run = (t: OnHost, command: Argv | string) =>
    ssh.run(t.host, command, { signal: Context.current().cancellationSignal }, authOf(t.ssh));

  /**
   * Runs a command of the release script (core/commands/node: `timeout N ...`). Exit 124 is that timeout, reported as
   * a CommandTimedOutError naming what it waited for: retried by the step's policy when the command only reads
   * (`readOnly`), final when it changes the node (a start that hangs is a broken release, not a slow host).
   */
  async function script(t: OnHost, argv: Argv, how: { readOnly: boolean; allowFailure?: boolean }) {
    const r = await ssh.run(t.host, argv, { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
    if (r.exitCode === 124 && argv[0] === 'timeout') {
      const bin = releaseLayout(t.host.deployTo, t.app).bin;
      const what = argv.includes(bin) ? argv.slice(argv.indexOf(bin)) : argv.slice(2);
      const err = new CommandTimedOutError(t.host.name, Number(argv[1]), `\`${toShell(what)}\``);
      throw how.readOnly ? err : ApplicationFailure.fromError(err, { nonRetryable: true });
    }
    if (r.exitCode !== 0 && !how.allowFailure) throw new RemoteCommandError(t.host.name, toShell(argv), r.exitCode, `${r.stderr}\n${r.stdout}`.trim());
    return r;
  }
  const read = (t: OnHost, argv: Argv) => script(t, argv, { readOnly: true });
  const change = (t: OnHost, argv: Argv) => script(t, argv, { readOnly: false });

  async function ping(t: OnHost): Promise<boolean> {
    const r = await script(t, node.ping(releaseLayout(t.host.deployTo, t.app)), { readOnly: true, allowFailure: true });
    return r.exitCode === 0 && r.stdout.includes('pong');
  }

  async function state(t: OnHost): Promise<NodeState> {
    const layout = releaseLayout(t.host.deployTo, t.app);
    if (!(await ping(t))) return { host: t.host.name, running: false };
    const r = await read(t, node.releases(layout));
    return { host: t.host.name, running: true, version: node.runningVersion(r.stdout) };
  }

  return {
    /**
     * Brings a release tarball to `releases/<vsn>/<app>.tar.gz` on the host: to a partial name, then a sha256 check on
     * the host, then a rename; a corrupt or truncated file is never renamed, so it is never extracted. From S3 the host
     * fetches a presigned URL with its own curl; otherwise (or without curl) the bytes stream through the worker.
     * Repeatable: a retry finds the verified file in place and sends nothing.
     */
    async uploadRelease(t: ReleaseOnHost): Promise<{ sent: boolean; via?: TransferMode }> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const final = layout.tarball(t.release.version);
      const partial = release.partialPath(final);
      const auth = authOf(t.ssh);
      const store = stores(t.store, t.ssh);
      // Captured now: the stream's callbacks can run in the async context of the pooled connection, not this activity's.
      const ctx = Context.current();
      const beat = (bytes: number) => reportProgress(ctx, { bytes, total: t.release.size });
      const dir = layout.releaseDir(t.release.version);
      const noSpace = (free: number, failed?: Error) =>
        new DiskFullError(
          `${t.host.name}: no space left for ${releaseFileName(t.release)} in ${dir} (${free} KiB free, it needs ${Math.ceil(t.release.size / 1024)} KiB)` +
            `${failed ? `; the upload failed (${failed.message}) and its partial file was removed` : ''}; nothing was extracted: free disk space on the host and deploy again`,
        );
      // One round trip before the transfer: the directory made, an old partial file removed, what is there, curl, df.
      const survey = release.parseUploadSurvey((await ssh.run(t.host, release.surveyUpload(layout.root, dir, final, partial), {}, auth)).stdout);
      if (survey.sha256 === t.release.sha256) return { sent: false };
      /** After a failed transfer: removes the partial file, then tells a full disk (a bare SFTP "Failure") from the rest. */
      const checkSpace = async (failed: Error) => {
        await ssh.run(t.host, release.removePartial(partial), { allowFailure: true }, auth).catch(() => undefined);
        const df = await ssh.run(t.host, release.diskFree(dir), { allowFailure: true }, auth).catch(() => undefined);
        const free = df ? release.availableKiB(df.stdout) : undefined;
        if (free !== undefined && free * 1024 < t.release.size) throw noSpace(free, failed);
      };
      /** Brings the tarball to the partial path: by the host's own curl from a presigned URL, or streamed over SFTP. */
      const transfer = async (): Promise<TransferMode> => {
        if (store.presignedUrl && survey.curl) {
          const url = await store.presignedUrl(t.release, PRESIGNED_URL_SECONDS);
          await ssh.run(t.host, release.download(partial), { stdin: release.curlConfig(url), signal: Context.current().cancellationSignal }, auth);
          return 'presigned-url';
        }
        const sent = await ssh.putStream(t.host, await store.openRead(t.release), partial, beat, auth);
        if (sent !== t.release.sha256) {
          throw new CorruptReleaseError(
            `${store.name}: ${releaseFileName(t.release)} has sha256 ${sent}, its manifest says ${t.release.sha256}: ` +
              'the stored object is corrupt or truncated; nothing was extracted (build or upload the release again)',
          );
        }
        return store.kind === 'remote' ? 'store-host' : 'worker';
      };
      try {
        if (survey.freeKiB !== undefined && survey.freeKiB * 1024 < t.release.size) throw noSpace(survey.freeKiB);
        let via: TransferMode;
        try {
          via = await transfer();
        } catch (err) {
          await checkSpace(err as Error);
          throw err;
        }
        const placed = await ssh.run(t.host, and(...release.verifyAndPlace(partial, final, t.release.sha256)), { allowFailure: true }, auth);
        if (placed.exitCode !== 0) {
          throw new ChecksumMismatchError(
            `${t.host.name}: ${partial} does not have sha256 ${t.release.sha256} (the manifest's) after the transfer (via ${via}); ` +
              `it was not extracted${via === 'presigned-url' ? `; the object in ${store.name} may be corrupt` : ' and will be sent again'}`,
          );
        }
        log.info('release uploaded', { host: t.host.name, version: t.release.version, bytes: t.release.size, via });
        return { sent: true, via };
      } catch (err) {
        // A refused or failed upload leaves no trace: no partial file, and no directory the survey made.
        await ssh.run(t.host, release.undoUpload(partial, dir, survey.made), { allowFailure: true }, auth).catch(() => undefined);
        throw err;
      }
    },

    /** Extracts the uploaded tarball into the deploy root after checking its sha256 again. Repeatable. */
    async unpackRelease(t: ReleaseOnHost): Promise<void> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      await run(t, and(...release.unpack(layout, t.release.version, t.release.sha256)));
      log.info('release unpacked', { host: t.host.name, version: t.release.version });
    },

    /**
     * Gives the node its per-host config before it starts: links `releases/<vsn>/vm.args` and `sys.config` to the files
     * LINK_VM_ARGS and LINK_SYS_CONFIG name (which must exist on the host), writes the cookie from COOKIE_FILE (read here,
     * on the worker) with mode 0400, and writes the static vm.args every version uses: the release's own, rendered, with
     * Ferry's node name when the host has one (or the linked file, which must name the same node, or some node), the
     * cookie and the cluster settings. Repeatable.
     */
    async configureNode(t: OnHost & { version: string; node?: NodeSettings }): Promise<void> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const s = t.node ?? {};
      const links = [
        { variable: 'LINK_VM_ARGS', file: 'vm.args' as const, path: s.linkVmArgs },
        { variable: 'LINK_SYS_CONFIG', file: 'sys.config' as const, path: s.linkSysConfig },
      ].filter((l): l is typeof l & { path: string } => l.path !== undefined);
      const cookie = s.cookieFile === undefined ? undefined : await readCookie(s.cookieFile);
      if (s.cluster && t.host.nodeName === undefined) {
        throw new InputError(`${t.host.name}: a cluster gives each node the others' names, but this host has no node name: set NODE_NAME or <ENV>_NODE_NAMES; nothing was started`);
      }
      if (links.length > 0) {
        const missing = node.missingFiles((await run(t, node.checkFiles(links.map((l) => l.path)))).stdout);
        if (missing.length > 0) {
          const what = links.filter((l) => missing.includes(l.path)).map((l) => `${l.variable} ${l.path}`);
          throw new InputError(
            `${t.host.name}: ${what.join(' and ')} ${what.length > 1 ? 'do' : 'does'} not exist on the host: ` +
              'create the file there (Ferry links the release to it) or unset the variable; nothing was started',
          );
        }
      }
      if (s.linkVmArgs !== undefined) {
        const named = (await run(t, node.nameIn(s.linkVmArgs))).stdout.trim();
        if (t.host.nodeName === undefined ? named === '' : named !== t.host.nodeName) {
          const file = `${t.host.name}: LINK_VM_ARGS ${s.linkVmArgs} ${named ? `names the node "${named}"` : 'has no -name or -sname line'}`;
          throw new InputError(
            t.host.nodeName === undefined
              ? `${file}, and the config gives the node no name: add one to the file (e.g. -name ${t.app}@${t.host.address}) or set NODE_NAME / <ENV>_NODE_NAMES`
              : `${file}, but the config gives this host the node name "${t.host.nodeName}": make them agree (-name in the file, or NODE_NAME / <ENV>_NODE_NAMES)`,
          );
        }
      }
      for (const l of links) await run(t, node.linkReleaseFile(layout, t.version, l.file, l.path));
      if (cookie !== undefined) {
        await ssh.run(t.host, node.writeCookie(layout), { stdin: cookie, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      }
      const extraArgs = s.cluster && t.host.nodeName ? node.clusterArgs(s.cluster, t.host.nodeName, t.app) : [];
      await run(t, node.configure(layout, t.version, t.host.nodeName, { linkVmArgs: s.linkVmArgs, cookie: cookie !== undefined, extraArgs }));
      log.info('node configured', { host: t.host.name, node: t.host.nodeName ?? 'named by the release', links: links.map((l) => l.file), cluster: s.cluster?.mode });
    },

    /**
     * The node's own name and the nodes it is connected to (`nodes()`), read from the node itself; when it does not run,
     * only Ferry's name for it, if there is one. Read-only.
     */
    async clusterView(t: OnHost): Promise<{ node?: string; running: boolean; sees?: string[] }> {
      if (!(await ping(t))) return { ...(t.host.nodeName ? { node: t.host.nodeName } : {}), running: false };
      const r = await read(t, node.clusterView(releaseLayout(t.host.deployTo, t.app)));
      const view = node.parseClusterView(r.stdout);
      if (!view) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} did not name itself: ${r.stdout.trim().slice(-200)}`);
      return { ...view, running: true };
    },

    /** Starts the node, or restarts it when `restart` is set and it runs another version than `version`. Repeatable. */
    async startNode(t: OnHost & { restart?: boolean; version?: string }): Promise<{ action: 'started' | 'restarted' | 'already running' }> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const running = await ping(t);
      if (running && (!t.restart || (t.version !== undefined && (await state(t)).version === t.version))) return { action: 'already running' };
      if (running) await change(t, node.stop(layout));
      await change(t, node.start(layout));
      log.info('node started', { host: t.host.name, node: t.host.nodeName ?? 'named by the release' });
      return { action: running ? 'restarted' : 'started' };
    },

    /** Stops the node. Repeatable: a stopped node stays stopped. */
    async stopNode(t: OnHost): Promise<NodeState> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      if (await ping(t)) await change(t, node.stop(layout));
      return { host: t.host.name, running: false };
    },

    /**
     * Removes old release directories under releases/, keeping the `keep` newest, the version the node runs and the one
     * its start script would start. Repeatable.
     */
    async pruneHostReleases(t: OnHost & { keep: number }): Promise<{ host: string; running?: string; kept: string[]; removed: string[] }> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const s = await state(t);
      const present = (await run(t, release.listVersions(layout))).stdout.split('\n').filter((l) => l !== '');
      const startVersion = (await run(t, release.startData(layout))).stdout.trim().split(/\s+/)[1];
      const plan = planPrune(present, t.keep, [s.version, startVersion]);
      for (const v of plan.remove) await run(t, release.removeVersion(layout, v));
      log.info('releases pruned', { host: t.host.name, removed: plan.remove, running: s.version });
      return { host: t.host.name, running: s.version, kept: plan.keep, removed: plan.remove };
    },

    /** Pings the node and reads the release it runs from the node itself. */
    nodeState: state,

    /** The node's state with its OS pid: what a hot upgrade compares before and after. Read-only. */
    async nodeIdentity(t: OnHost): Promise<NodeState> {
      const s = await state(t);
      if (!s.running) return s;
      const r = await read(t, node.osPid(releaseLayout(t.host.deployTo, t.app)));
      return { ...s, pid: node.parsePid(r.stdout) };
    },

    /**
     * As nodeIdentity, but NodeNotReadyError (retryable) until the node answers with its version and pid: a failed
     * upgrade can restart the node in place, and it answers nothing useful while it boots again.
     */
    async awaitNodeIdentity(t: OnHost): Promise<NodeState> {
      try {
        const s = await state(t);
        if (!s.running || s.version === undefined) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} does not report its release yet`);
        const pid = node.parsePid((await read(t, node.osPid(releaseLayout(t.host.deployTo, t.app)))).stdout);
        if (pid === undefined) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} does not report its OS pid yet`);
        return { ...s, pid };
      } catch (err) {
        // The node can stop answering between two commands while it restarts: that is "not ready", not a failure.
        if (err instanceof RemoteCommandError) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} is restarting: ${err.message}`);
        throw err;
      }
    },

    /**
     * Runs `bin/<app> upgrade <version>` (the tarball must be in `releases/<version>/`). Returns what it printed and its
     * exit code without judging them: the caller verifies the node itself.
     */
    async upgradeNode(t: OnHost & { version: string }): Promise<ScriptOutcome> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const r = await ssh.run(t.host, node.upgrade(layout, t.version), { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      log.info('upgrade script ran', { host: t.host.name, version: t.version, exitCode: r.exitCode });
      return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`.slice(-4000) };
    },

    /** Runs `bin/<app> downgrade <version>`; like upgradeNode, it reports and the caller verifies. */
    async downgradeNode(t: OnHost & { version: string }): Promise<ScriptOutcome> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const r = await ssh.run(t.host, node.downgrade(layout, t.version), { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      log.warn('downgrade script ran', { host: t.host.name, version: t.version, exitCode: r.exitCode });
      return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`.slice(-4000) };
    },

    /**
     * One try of a rollout's health command on the host (in the deploy root, quoted from argv): exit 0 is healthy,
     * anything else HealthCheckFailedError (retryable; the rollout's probe policy sets tries, interval, timeout). Read-only.
     */
    async healthCommand(t: OnHost & { command: string[]; timeoutSeconds: number }): Promise<{ host: string; output: string }> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const r = await ssh.run(t.host, node.healthCommand(layout, t.command, t.timeoutSeconds), { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      const output = `${r.stdout}${r.stderr}`.trim().slice(-1000);
      if (r.exitCode !== 0) {
        throw new HealthCheckFailedError(`${t.host.name}: health command \`${t.command.join(' ')}\` exited with ${r.exitCode}${output ? `: ${output.split('\n').at(-1)}` : ''}`);
      }
      return { host: t.host.name, output };
    },

    /**
     * One try of a bake's Erlang check: `bin/<app> eval <expression>` on the running node; healthy when it prints
     * `true` or `ok`, anything else (false, an error, no answer) HealthCheckFailedError (retryable). Read-only as far
     * as Ferry is concerned: the expression is the operator's.
     */
    async healthEval(t: OnHost & { expression: string }): Promise<{ host: string; output: string }> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const r = await ssh.run(t.host, node.evaluate(layout, t.expression), { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      const output = `${r.stdout}${r.stderr}`.trim();
      const last = output.split('\n').at(-1)?.trim() ?? '';
      if (r.exitCode !== 0 || (last !== 'true' && last !== 'ok')) {
        throw new HealthCheckFailedError(`${t.host.name}: \`${t.expression}\` returned ${last.slice(0, 300) || `nothing (exit ${r.exitCode})`}, expected true or ok`);
      }
      return { host: t.host.name, output: last };
    },

    /** Waits for the node to answer ping; NodeNotReadyError (retryable) while it boots. */
    async verifyRunning(t: OnHost): Promise<NodeState> {
      const s = await state(t);
      if (!s.running) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} does not answer ping`);
      return s;
    },

    /**
     * The node's release, its applications (expected and running) and its supervision trees, read from the node: what
     * a hot upgrade compares before and after. Read-only. NodeNotReadyError (retryable) while the node cannot tell.
     */
    async nodeSupervision(t: OnHost): Promise<NodeSupervision> {
      const r = await run(t, supervision(releaseLayout(t.host.deployTo, t.app)));
      const s = parseSupervision(r.stdout);
      if (!s) throw new NodeNotReadyError(`${t.host.name}: node ${t.host.nodeName} did not report its supervision trees: ${r.stdout.trim().split('\n')[0]!.slice(0, 300)}`);
      return s;
    },

    /** Waits for the node to answer and run `version`; NodeNotReadyError (retryable) while it boots. */
    async verifyNode(t: OnHost & { version: string }): Promise<NodeState> {
      const s = await state(t);
      if (!s.running) throw new NodeNotReadyError(`${t.host.name}: ${nodeLabel(t.host)} does not answer ping`);
      if (s.version !== t.version) throw new NodeNotReadyError(`${t.host.name}: node runs ${s.version ?? 'an unknown version'}, expected ${t.version}`);
      return s;
    },
  };
}
