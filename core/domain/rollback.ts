import { InputError } from './errors';
import type { RolloutProgress } from './plan';
import type { DeployStatus } from './requests';

/** The environment's last change, as `ferry rollback` reads it from the last run of the environment lock. */
export type LastChange =
  | { type: 'rollout'; progress: RolloutProgress }
  | { type: 'deployRelease' | 'updateRelease' | 'deployUpgrade' | 'upgradeEnvironment'; status: DeployStatus };

/** What `ferry rollback <env>` does: these hosts go from `from` back to `version`, hot (a downgrade) or by a redeploy. */
export interface RollbackTarget {
  from: string;
  version: string;
  hosts: string[];
  hot: boolean;
}

/**
 * Where the hosts the last change brought to its version go back to: the version each ran before it. A rollout
 * recorded that per host (and whether it hot-upgraded them); an upgrade names its from-version. A deploy or update
 * records nothing about what ran before: `earlier` is then the version of the environment's change before it, if the
 * caller knows one. Throws InputError, naming what to do, when there is nothing to go back to or the hosts disagree.
 */
export function rollbackTarget(change: LastChange, earlier?: string): RollbackTarget {
  if (change.type === 'rollout') {
    const p = change.progress;
    const stage = p.stages[p.stages.length - 1];
    const hosts = Object.values(stage?.hosts ?? {}).filter((h) => h.outcome === 'ok' && h.previousVersion);
    const hot = p.preflight?.decision === 'hot';
    return single(
      stage?.environment ?? '<env>',
      p.version,
      hosts.map((h) => ({ host: h.host, previous: h.previousVersion!, hot: hot && h.fallback === undefined })),
      `the last rollout (${p.version}) brought no host from an earlier version`,
    );
  }
  const s = change.status;
  const done = Object.values(s.hosts).filter((h) => h.step === 'done');
  if (change.type === 'deployUpgrade' || change.type === 'upgradeEnvironment') {
    if (!s.fromVersion) throw new InputError(`the last upgrade (${s.version}) names no from-version: roll back with \`ferry rollout ${s.environment} --version=V\``);
    const hot = s.preflight === undefined || s.preflight.decision === 'hot';
    return single(s.environment, s.version, done.map((h) => ({ host: h.host, previous: s.fromVersion!, hot: hot && h.fallback === undefined })), `the last upgrade (${s.version}) changed no host`);
  }
  if (earlier === undefined) {
    throw new InputError(`the last change was ${change.type} ${s.version}, and no earlier change of ${s.environment} is recorded: roll back with \`ferry rollout ${s.environment} --version=V\``);
  }
  return single(s.environment, s.version, done.map((h) => ({ host: h.host, previous: earlier, hot: false })), `the last ${change.type} (${s.version}) changed no host`);
}

function single(env: string, from: string, hosts: Array<{ host: string; previous: string; hot: boolean }>, none: string): RollbackTarget {
  if (hosts.length === 0) throw new InputError(`nothing to roll back: ${none}`);
  const versions = [...new Set(hosts.map((h) => h.previous))];
  if (versions.length > 1) {
    throw new InputError(`the hosts ran different versions before (${hosts.map((h) => `${h.host}: ${h.previous}`).join(', ')}): roll back with \`ferry rollout ${env} --version=V --host=H\``);
  }
  const hot = [...new Set(hosts.map((h) => h.hot))];
  if (hot.length > 1) {
    throw new InputError(`some hosts were hot-upgraded and others restarted (${hosts.map((h) => `${h.host}: ${h.hot ? 'hot' : 'restarted'}`).join(', ')}): roll back with \`ferry rollout ${env} --version=${versions[0]} --host=H\``);
  }
  return { from, version: versions[0]!, hosts: hosts.map((h) => h.host), hot: hot[0]! };
}
