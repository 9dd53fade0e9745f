import assert from 'node:assert/strict';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import { HealthCheckFailedError, HostKeyError } from '../../core/domain/errors';
import type { HostTarget } from '../../core/domain/host';
import type { RolloutPlan, RolloutProgress, StagePlan } from '../../core/domain/plan';
import type { NodeSupervision } from '../../core/domain/supervision';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';

/** A fake fleet for rollout workflow tests (dev server and time-skipping server alike). */
export const host = (n: number): HostTarget => ({ name: `web${n}`, address: `web${n}`, port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: `hello@web${n}` });
export const hosts = (n: number) => Array.from({ length: n }, (_, i) => host(i + 1));
export const plan = (stage: Partial<StagePlan>, extra: Partial<RolloutPlan> = {}): RolloutPlan => ({
  app: 'hello',
  version: '0.2.0',
  store: '/var/ferry/store',
  stages: [{ environment: 'production', hosts: hosts(3), ...stage }],
  ...extra,
});

/** Upgrade steps: a rollout of releases never calls them. */
const notUsed = async (): Promise<never> => {
  throw new Error('not used by rollouts');
};

/** What every fake node reports about its applications and supervision trees: nothing ever restarts. */
const steady = (release: string): NodeSupervision => ({
  release, expected: ['hello'], running: ['hello'], children: { hello: { app: 'hello', pid: '<0.90.0>' } }, intended: { apps: [], children: [] },
});

/**
 * A fake fleet: what each node runs, every call in order, and hosts whose upload fails like a bad host key. Upgrade
 * stages find an upgrade to the plan's version from 0.1.0, with `upgradePlan` in its manifest when given.
 */
export function fleet(initial: Record<string, string> = {}, upgradePlan?: UpgradePlan) {
  const running = new Map(Object.entries(initial));
  const calls: string[] = [];
  const failOn = new Set<string>();
  /** Hosts whose health command fails, and how often each host's command and probe were tried. */
  const unhealthy = new Set<string>();
  const probes: string[] = [];
  /** Rollout events sent to notify, with who when the event names one. */
  const notes: string[] = [];
  const release = (version: string) => ({ app: 'hello', version, type: 'release' as const, sha256: 'ab'.repeat(32), size: 10, storeKey: `/s/hello_${version}.release.tar.gz`, builtAt: '2026-01-01T00:00:00Z' });
  const activities: Activities = {
    lookupRelease: async (r) => (
      calls.push(`lookup ${r.version}${r.type === 'upgrade' ? ' upgrade' : ''}`),
      r.type === 'upgrade' ? { ...release(r.version), type: 'upgrade' as const, fromVersion: '0.1.0', ...(upgradePlan ? { plan: upgradePlan } : {}) } : release(r.version)
    ),
    runMigration: async (t) => (calls.push(`migrate ${t.host.name} ${t.runKey ?? ''}`), { output: 'up 1', recorded: false }),
    migrationStatus: async () => ({ output: '', recorded: false }),
    uploadRelease: async (t) => {
      calls.push(`upload ${t.host.name} ${t.release.version}`);
      if (failOn.has(t.host.name)) throw new HostKeyError(t.host.name, 'mismatch', '/home/deploy/.ssh/known_hosts');
      return { sent: true };
    },
    unpackRelease: async () => undefined,
    configureNode: async () => undefined,
    clusterView: notUsed,
    startNode: async (t) => (calls.push(`start ${t.host.name}`), running.set(t.host.name, t.version ?? ''), { action: 'restarted' as const }),
    stopNode: async (t) => (calls.push(`stop ${t.host.name}`), running.delete(t.host.name), { host: t.host.name, running: false }),
    nodeState: async (t) => ({ host: t.host.name, running: running.has(t.host.name), version: running.get(t.host.name) }),
    verifyRunning: async (t) => ({ host: t.host.name, running: true, version: running.get(t.host.name) }),
    verifyNode: async (t) => ({ host: t.host.name, running: true, version: t.version }),
    resolveRevision: async () => ({ revision: 'f'.repeat(40), branch: 'main' }),
    pushSource: async () => undefined,
    compileRelease: async () => ({ version: '0.2.0', remoteTarball: '/b/hello-0.2.0.tar.gz', output: { tail: 'ok', length: 2 } }),
    fetchRelease: async () => release('0.2.0'),
    prepareBuild: notUsed,
    versionFacts: notUsed,
    runHook: notUsed,
    findBuiltRelease: async () => undefined,
    findRelease: notUsed,
    newestUpgrade: notUsed,
    readVersionAt: notUsed,
    makeRelup: notUsed,
    nodeIdentity: async (t) => ({ host: t.host.name, running: running.has(t.host.name), version: running.get(t.host.name), pid: 100 }),
    awaitNodeIdentity: async (t) => ({ host: t.host.name, running: true, version: running.get(t.host.name), pid: 100 }),
    nodeSupervision: async (t) => steady(running.get(t.host.name) ?? ''),
    upgradeNode: async (t) => (calls.push(`upgrade ${t.host.name}`), running.set(t.host.name, t.version), { exitCode: 0, output: '' }),
    downgradeNode: async (t) => (calls.push(`downgrade ${t.host.name}`), running.set(t.host.name, t.version), { exitCode: 0, output: '' }),
    healthCommand: async (t) => {
      probes.push(`command ${t.host.name}`);
      if (unhealthy.has(t.host.name)) throw new HealthCheckFailedError(`${t.host.name}: health command \`${t.command.join(' ')}\` exited with 1`);
      return { host: t.host.name, output: '' };
    },
    notify: async (n) => (notes.push(`${n.event}${n.who ? ` ${n.who}` : ''}`), { sent: 0 }),
    healthEval: async (t) => {
      probes.push(`eval ${t.host.name}`);
      if (unhealthy.has(t.host.name)) throw new HealthCheckFailedError(`${t.host.name}: \`${t.expression}\` returned false, expected true or ok`);
      return { host: t.host.name, output: 'true' };
    },
    probeHttp: async (t) => (probes.push(`http ${t.host.name}`), { host: t.host.name, status: t.expectStatus }),
    pruneHostReleases: async (t) => ({ host: t.host.name, running: running.get(t.host.name), kept: [], removed: [] }),
  };
  return { running, calls, failOn, unhealthy, probes, notes, activities, uploads: () => calls.filter((c) => c.startsWith('upload')).map((c) => c.split(' ')[1]) };
}



/** The rollout's outcome: its result, or the progress a RolloutRejected/-Aborted/-RolledBack failure carries. */
export async function rolloutOutcome(handle: WorkflowHandle): Promise<{ type?: string; message?: string; progress: RolloutProgress }> {
  try {
    return { progress: (await handle.result()) as RolloutProgress };
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    return { type: err.cause.type ?? undefined, message: err.cause.message, progress: err.cause.details?.[0] as RolloutProgress };
  }
}

/**
 * Polls the progress query until `ok` holds; bounded by tries, not by a clock. No client waits for the result meanwhile:
 * a time-skipping server would skip time to the end of the run while the rollout waits for a signal with no timer pending.
 */
export async function untilProgress(handle: WorkflowHandle, ok: (p: RolloutProgress) => boolean): Promise<RolloutProgress> {
  for (let i = 0; i < 400; i++) {
    const p = await handle.query<RolloutProgress>('progress');
    if (ok(p)) return p;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`progress never matched: ${JSON.stringify(await handle.query('progress'))}`);
}
