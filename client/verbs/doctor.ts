import { Socket } from 'node:net';
import { defaultSshAuth, SshPool, type Route } from '../../activities/ssh/ssh-pool';
import { authOf } from '../../activities/ssh/auth';
import { environmentOf } from '../../core/config/parse';
import type { DeliveryConfig } from '../../core/config/schema';
import * as doctor from '../../core/commands/doctor';
import * as node from '../../core/commands/node';
import { TASK_QUEUE } from '../../core/domain/constants';
import { releaseLayout, type SshSettings, type SshTarget } from '../../core/domain/host';
import { sshOf as sshSettings } from '../requests';
import { connect } from '../temporal';
import { temporalSettings } from '../../activities/temporal-connection';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/** One line of the doctor's report. */
export interface Check {
  target: string;
  check: string;
  ok: boolean;
  /** Passed, but worth a look (e.g. a node that is not running). */
  warn?: boolean;
  detail: string;
  fix?: string;
}

const MIN_FREE_KB = 200 * 1024;
/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: the pollers that run Ferry's steps. */
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/**
 * `ferry doctor [<env>]`: checks Temporal, the worker, the build host and every host of the environment (all
 * environments when none is named) from this machine, with the project's SSH settings. Exit 1 when any check fails.
 */
export async function doctorVerb(ctx: VerbContext, env: string | undefined, opts: GlobalOptions): Promise<number> {
  const checks: Check[] = [];
  const report = (c: Check) => {
    checks.push(c);
    if (!opts.json) ctx.out.write(`${c.ok ? (c.warn ? '!' : '✓') : '✗'} ${c.target.padEnd(28)} ${c.check}: ${c.detail}${c.ok || !c.fix ? '' : `\n    fix: ${c.fix}`}\n`);
  };
  await temporalChecks(ctx, report);
  const config = await loadConfig(opts, ctx);
  report({ target: 'config', check: 'config file', ok: true, detail: `${config.source} is valid (${config.app}, ${config.buildTool})` });
  const ssh = new SshPool({ ...defaultSshAuth(ctx.env), connectTimeoutMs: 5000 });
  try {
    await buildHostChecks(config, ssh, report);
    const envs = env ? [environmentOf(config, env)] : Object.values(config.environments);
    for (const e of envs) {
      for (const detail of e.nodeNameErrors ?? []) report({ target: e.name, check: 'node names', ok: false, detail });
      // Hosts are checked in parallel; their lines are printed host by host.
      const perHost = await Promise.all(
        e.hosts.map(async (h) => {
          const lines: Check[] = [];
          await targetHostChecks(config, ssh, `${e.name} ${h.name}`, h, h.deployTo, h.nodeName, (c) => lines.push(c));
          return lines;
        }),
      );
      perHost.flat().forEach(report);
    }
  } finally {
    await ssh.close();
  }
  const failed = checks.filter((c) => !c.ok).length;
  if (opts.json) ctx.out.write(`${JSON.stringify({ ok: failed === 0, checks })}\n`);
  else ctx.out.write(`${failed === 0 ? 'all checks passed' : `${failed} of ${checks.length} checks failed`}\n`);
  return failed === 0 ? 0 : 1;
}

async function temporalChecks(ctx: VerbContext, report: (c: Check) => void): Promise<void> {
  let address: string;
  try {
    const settings = temporalSettings(ctx.env);
    address = `${settings.address} (namespace ${settings.namespace}, ${settings.source})`;
  } catch (err) {
    report({ target: 'temporal', check: 'connection settings', ok: false, detail: (err as Error).message, fix: 'fix TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE' });
    return;
  }
  const client = await connect(ctx.env).catch((err: Error) => {
    report({ target: 'temporal', check: 'server reachable', ok: false, detail: err.message, fix: 'start it (`make demo` starts a local one), or set TEMPORAL_ADDRESS or TEMPORAL_PROFILE' });
    return undefined;
  });
  if (!client) return;
  try {
    report({ target: 'temporal', check: 'server reachable', ok: true, detail: address });
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: TASK_QUEUE },
      taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
    });
    const n = pollers?.length ?? 0;
    report({
      target: 'temporal',
      check: `worker polling "${TASK_QUEUE}"`,
      ok: n > 0,
      detail: n > 0 ? `${n} poller(s), e.g. ${pollers?.[0]?.identity ?? '?'}` : 'no worker polls the task queue',
      fix: 'start one with `ferry worker` where it can reach your hosts',
    });
  } catch (err) {
    report({ target: 'temporal', check: 'namespace', ok: false, detail: (err as Error).message, fix: 'check TEMPORAL_NAMESPACE' });
  } finally {
    await client.connection.close();
  }
}

/** Port, host key and login: the three checks every host gets first. False when the rest cannot run. */
async function reach(ssh: SshPool, name: string, host: SshTarget, settings: SshSettings | undefined, report: (c: Check) => void): Promise<boolean> {
  let route: Route;
  const hops: Route[] = [];
  try {
    route = ssh.route(host, authOf(settings));
    // The first hop is the one this machine must reach itself; the pool goes on from there.
    for (let r = route; r.via; r = ssh.route(r.via, authOf(settings))) hops.unshift(ssh.route(r.via, authOf(settings)));
  } catch (err) {
    report({ target: name, check: 'ssh settings', ok: false, detail: (err as Error).message, fix: 'fix the ProxyJump line of the SSH config' });
    return false;
  }
  const first = hops[0] ?? route;
  const at = `${first.address}:${first.port}`;
  const open = await tcpOpen(first.address.replace(/^\[|\]$/g, ''), first.port);
  const check = hops.length > 0 ? `jump host ${first.name} reachable` : 'port reachable';
  const fix = hops.length > 0 ? 'check the jump host is up and its port in <ENV>_SSH_JUMP / SSH_JUMP or ProxyJump is right' : 'check the host is up, its sshd runs and the port in .deliver/config is right';
  report({ target: name, check, ok: open === true, detail: open === true ? `${at} accepts connections` : `${at}: ${open}`, fix });
  if (open !== true) return false;
  if (hops.length > 0) {
    report({ target: name, check: 'route', ok: true, detail: `through ${hops.map((h) => `${h.user}@${h.name}`).join(' -> ')} to ${route.address}:${route.port}` });
  }
  try {
    await ssh.run(host, ['true'], {}, authOf(settings));
    report({ target: name, check: 'host key and login', ok: true, detail: `logged in as ${host.user}; host key matches known_hosts` });
    return true;
  } catch (err) {
    const e = err as Error;
    const fix =
      e.name === 'HostKeyError'
        ? `compare \`ssh-keyscan -p ${host.port} ${host.address}\` with the host's own key (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to known_hosts`
        : e.name === 'AuthenticationError'
          ? `add your public key to ~${host.user}/.ssh/authorized_keys on the host, or set SSH_IDENTITY_FILE`
          : 'check the network path to the host';
    report({ target: name, check: 'host key and login', ok: false, detail: e.message, fix });
    return false;
  }
}

async function buildHostChecks(config: DeliveryConfig, ssh: SshPool, report: (c: Check) => void): Promise<void> {
  const name = `build ${config.buildHost.name}`;
  const settings = sshSettings(config);
  if (!(await reach(ssh, name, config.buildHost, settings, report))) return;
  const tools = ['git', 'erl', config.buildTool] as const;
  for (const tool of tools) {
    const r = await ssh.run(config.buildHost, doctor.toolVersion(tool), { allowFailure: true }, authOf(settings));
    const path = /^PATH=(.*)$/m.exec(r.stdout)?.[1];
    const { user, address } = config.buildHost;
    report({
      target: name,
      check: tool,
      ok: r.exitCode === 0,
      detail: r.exitCode === 0 ? r.stdout.trim().split('\n')[0]! : `not found on the login PATH${path !== undefined ? ` (${path})` : ''}`,
      fix:
        `install ${tool === 'erl' ? 'erlang' : tool} on the build host (Debian: apt-get install ${tool === 'erl' ? 'erlang' : tool === 'mix' ? 'elixir' : tool}), ` +
        `or add its directory to the PATH of ${user}'s non-interactive SSH sessions (\`ssh ${user}@${address} 'echo $PATH'\` shows it)`,
    });
  }
  await dirChecks(ssh, name, config.buildHost, settings, config.buildAt, 'BUILD_AT', report);
}

async function targetHostChecks(
  config: DeliveryConfig, ssh: SshPool, name: string, host: SshTarget, deployTo: string, nodeName: string | undefined, report: (c: Check) => void,
): Promise<void> {
  const settings = sshSettings(config);
  if (!(await reach(ssh, name, host, settings, report))) return;
  await dirChecks(ssh, name, host, settings, deployTo, 'DELIVER_TO', report);
  const layout = releaseLayout(deployTo, config.app);
  const script = await ssh.run(host, ['test', '-x', layout.bin], { allowFailure: true }, authOf(settings));
  if (script.exitCode !== 0) {
    report({ target: name, check: 'release', ok: true, detail: `nothing deployed yet (${layout.bin} is absent)` });
    return;
  }
  const ping = await ssh.run(host, node.ping(layout), { allowFailure: true }, authOf(settings));
  const up = ping.exitCode === 0 && ping.stdout.includes('pong');
  const label = nodeName ?? 'the node';
  report({ target: name, check: 'node', ok: true, warn: !up, detail: up ? `${label} answers ping` : `${label} is not running (start it with \`ferry start\`)` });
}

async function dirChecks(ssh: SshPool, name: string, host: SshTarget, settings: SshSettings | undefined, dir: string, variable: string, report: (c: Check) => void): Promise<void> {
  const w = await ssh.run(host, doctor.writable(dir), { allowFailure: true }, authOf(settings));
  report({ target: name, check: `${variable} writable`, ok: w.exitCode === 0, detail: w.exitCode === 0 ? dir : `${host.user} cannot create or write ${dir}`, fix: `create ${dir} on the host and give ${host.user} write access, or change ${variable}` });
  const df = await ssh.run(host, doctor.freeKb(dir), { allowFailure: true }, authOf(settings));
  const kb = Number(df.stdout.trim());
  const ok = df.exitCode === 0 && kb >= MIN_FREE_KB;
  report({ target: name, check: 'disk space', ok, detail: Number.isFinite(kb) && df.exitCode === 0 ? `${(kb / 1024).toFixed(0)} MB free under ${dir}` : 'cannot read df', fix: `free at least ${MIN_FREE_KB / 1024} MB on the filesystem of ${dir}` });
}


/** true, or why the TCP port did not accept a connection within 3 s. */
function tcpOpen(host: string, port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (r: true | string) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(3000, () => done('timed out after 3 s'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message));
    socket.connect(port, host, () => done(true));
  });
}
