import { join } from 'node:path';
import { after, before } from 'node:test';
import { LocalStore } from '../../activities/store/local-store';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, nodeCommandRequest } from '../../client/requests';
import * as node from '../../core/commands/node';
import type { DeliveryConfig } from '../../core/config/schema';
import { releaseLayout } from '../../core/domain/host';
import type { BuildResult } from '../../core/domain/requests';
import { exampleProject, hostTarget, removeUpgrades, startWorker, testConfig, type TestEnv } from './env';

/**
 * What integration tests of deploys and upgrades share: a worker on its own task queue, a private example project
 * (a copy of `repo`, default the hello example, with `config` appended to the test config) whose PRODUCTION_HOSTS are
 * `hosts` (deployed under `deployTo`), and ways to look at the nodes of `app` as an operator would.
 * Registers `before` (starts from a store without upgrades) and `after` (stops every node of production, then the
 * worker); the returned fields are usable inside tests.
 */
export function nodesUnderTest(env: TestEnv, opts: { taskQueue: string; hosts: string[]; deployTo?: string; app?: string; repo?: string; config?: string }) {
  const deployTo = opts.deployTo ?? '/opt/ferry';
  const app = opts.app ?? 'hello';
  const layout = releaseLayout(deployTo, app);
  const t = {
    w: undefined as unknown as Awaited<ReturnType<typeof startWorker>>,
    config: undefined as unknown as DeliveryConfig,
    /** `address:port`, the name a host has in requests and reports. */
    addr: (host: string) => `${env.host(host)}`,
    run: <T>(type: string, id: string, args: unknown[]) => t.w.client.workflow.execute(type, { taskQueue: t.w.taskQueue, workflowId: id, args }) as Promise<T>,
    /** A path on a host, as the test runner sees it. */
    hostFile: (host: string, path: string) => join(env.hostRoot(host), path.replace(/^\/opt\//, '')),
    /** Evaluates an Erlang expression on a host's node through the release script. */
    async evalOn(host: string, expression: string): Promise<string> {
      return (await t.w.ssh.run(hostTarget(env, host, deployTo), node.evaluate(layout, expression))).stdout.trim();
    },
    pidOf: async (host: string) => (await t.w.ssh.run(hostTarget(env, host, deployTo), node.osPid(layout))).stdout.trim(),
    /** What release_handler:which_releases() says on the node, as `[version, status]` pairs, newest first. */
    async releasesOn(host: string): Promise<[string, string][]> {
      const out = (await t.w.ssh.run(hostTarget(env, host, deployTo), node.releases(layout))).stdout;
      return [...out.matchAll(/\{"([^"]+)",\s*(\w+)\}/g)].map(([, v, s]) => [v!, s!]);
    },
    /** Builds release `v` from its git tag unless the store has it. */
    async ensureRelease(v: string): Promise<void> {
      if (!(await new LocalStore((t.config.releaseStore as { dir: string }).dir).head({ app, version: v }))) {
        await t.run<BuildResult>('buildRelease', `${opts.taskQueue}-build-${v}`, [buildRequest(t.config, { tag: v })]);
      }
    },
  };
  before(async () => {
    removeUpgrades(env);
    t.w = await startWorker(env, opts.taskQueue);
    const extra = `PRODUCTION_HOSTS="${opts.hosts.map(t.addr).join(' ')}"\nDELIVER_TO="${deployTo}"\n${opts.config ?? ''}`;
    t.config = await loadDeliveryConfig({ cwd: exampleProject(env, testConfig(env, extra), opts.repo) });
  });
  after(async () => {
    try {
      if (t.config) {
        await t.run('nodeCommand', `${opts.taskQueue}-cleanup`, [nodeCommandRequest(t.config, 'production', 'stop')]).catch(() => undefined);
      }
    } finally {
      await t.w?.stop();
    }
  });
  return t;
}
