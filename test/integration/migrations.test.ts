import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { s3SettingsFromEnv, storeFactory } from '../../activities/store';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest, migrateRequest, nodeCommandRequest } from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { MigrateResult } from '../../core/domain/migrations';
import { exampleProject, hostTarget, startWorker, testAuth, testConfig, testEnv } from '../support/env';

/**
 * Migrations of a relx release on real hosts: the first running node runs them, `up`/`down`/`status` through
 * `bin/hello eval`, and the host-side lock and record make a run happen once and never two at a time.
 */

const env = testEnv();
let w: Awaited<ReturnType<typeof startWorker>>;
let config: DeliveryConfig;
/** The app-side record: every expression below appends to it on the node's host. */
const LOG = '/opt/ferry/hello/app-migrations.log';
const appLog = () => readFileSync(join(env.hostRoot('prod3'), 'ferry/hello/app-migrations.log'), 'utf8');
const append = (line: string) => `file:write_file("${LOG}", <<"${line}\\n">>, [append])`;

before(async () => {
  w = await startWorker(env, 'it-migrate');
  // `other` has no release, so its node does not answer: the migration must run on prod3, the first that does.
  const project = exampleProject(
    env,
    testConfig(
      env,
      `PRODUCTION_HOSTS="${env.host('other')} ${env.host('prod3')}"
MIGRATE_COMMAND='begin ${append('up')}, "migrated" end'
MIGRATE_DOWN_COMMAND='begin ${append('down {version}')}, "rolled back to {version}" end.'
MIGRATIONS_STATUS_COMMAND='binary_to_list(element(2, file:read_file("${LOG}")))'
`,
    ),
  );
  config = await loadDeliveryConfig({ cwd: project });
  await run('buildRelease', 'it-migrate-build', [buildRequest(config, { tag: '0.1.0' })]);
  await run('deployRelease', 'it-migrate-deploy', [{ ...deployRequest(config, 'production', { version: '0.1.0', startDeploy: true }), hosts: [hostTarget(env, 'prod3')] }]);
});

after(async () => {
  try {
    await run('nodeCommand', 'it-migrate-stop', [{ ...nodeCommandRequest(config, 'production', 'stop'), hosts: [hostTarget(env, 'prod3')] }]).catch(() => undefined);
  } finally {
    await w?.stop();
  }
});

function run<T>(type: string, id: string, args: unknown[]): Promise<T> {
  return w.client.workflow.execute(type, { taskQueue: w.taskQueue, workflowId: id, args }) as Promise<T>;
}

const activities = () => createActivities({ ssh: w.ssh, auth: testAuth(env), stores: storeFactory({ ssh: w.ssh, s3: s3SettingsFromEnv(process.env) }), workerFiles: [env.state] });
/** runMigration as the worker runs it, inside an activity context that names a workflow run (what a retry keeps). */
const runMigrationAs = (workflowId: string, runId: string, expression: string) =>
  // The MIGRATE policy's time limit (the mock's default is 1 s, and a step stops its command at its limit).
  new MockActivityEnvironment({ workflowExecution: { workflowId, runId }, startToCloseTimeoutMs: 2 * 3600_000 }).run(activities().runMigration, {
    host: hostTarget(env, 'prod3'),
    app: 'hello',
    ssh: { knownHostsFile: env.knownHosts, identityFile: env.identity },
    expression,
  });

test('migrate up runs MIGRATE_COMMAND with relx eval on the first node that answers ping, and returns its output', async () => {
  const r = await run<MigrateResult>('migrate', 'it-migrate-up', [migrateRequest(config, 'production', 'up', {})]);
  assert.equal(r.host, `${env.host('prod3')}`);
  assert.equal(r.output, '"migrated"\n');
  assert.equal(r.recorded, undefined);
  assert.equal(appLog(), 'up\n');
});

test('migrate down --version=4 fills {version}; show migrations runs the status expression', async () => {
  const down = await run<MigrateResult>('migrate', 'it-migrate-down', [migrateRequest(config, 'production', 'down', { version: '4' })]);
  assert.equal(down.output, '"rolled back to 4"\n');
  const status = await run<MigrateResult>('migrate', 'it-migrate-status', [migrateRequest(config, 'production', 'status', {})]);
  assert.match(status.output, /"up\ndown 4\n"/);
});

test('the same run twice (a retry after a crash) runs the command once and returns the recorded output', async () => {
  const before = appLog();
  const first = await runMigrationAs('it-once', 'run-1', `begin ${append('once')}, "applied once" end.`);
  const retry = await runMigrationAs('it-once', 'run-1', `begin ${append('once')}, "applied once" end.`);
  assert.deepEqual(first, { output: '"applied once"\n', recorded: false });
  assert.deepEqual(retry, { output: '"applied once"\n', recorded: true });
  assert.equal(appLog(), `${before}once\n`, 'the app recorded one application');
  assert.equal(readFileSync(join(env.hostRoot('prod3'), 'ferry/hello/ferry/migrations/it-once@run-1.done'), 'utf8'), '"applied once"\n');
  // Another run is another request: it runs.
  await runMigrationAs('it-once', 'run-2', `begin ${append('once')}, "applied once" end.`);
  assert.equal(appLog(), `${before}once\nonce\n`);
});

test('while a run holds the lock, another run is refused naming it, and a retry of the same run waits for it', async () => {
  const slow = `begin timer:sleep(4000), ${append('slow')}, "slow done" end.`;
  const owner = join(env.hostRoot('prod3'), 'ferry/hello/ferry/migrate.owner');
  const before = appLog();
  const first = runMigrationAs('it-slow', 'run-1', slow);
  while (!(existsSync(owner) && readFileSync(owner, 'utf8').startsWith('it-slow@run-1 '))) await new Promise((r) => setTimeout(r, 100));
  await assert.rejects(runMigrationAs('it-other', 'run-1', slow), (err: Error) => {
    assert.equal(err.name, 'MigrationLockedError');
    assert.match(err.message, /migrations on this host are locked by it-slow@run-1 since \S+ \(pid \d+\)/);
    return true;
  });
  const retry = await runMigrationAs('it-slow', 'run-1', slow);
  assert.deepEqual(await first, { output: '"slow done"\n', recorded: false });
  assert.deepEqual(retry, { output: '"slow done"\n', recorded: true });
  assert.equal(appLog(), `${before}slow\n`);
});

test('a failing migration fails the workflow with the node’s answer and leaves no record', async () => {
  const bad = { ...migrateRequest(config, 'production', 'up', {}), expression: 'erlang:error(schema_broken).' };
  const err = await run('migrate', 'it-migrate-bad', [bad]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(String(err.cause?.message), /^migrate up: .*exited with 1: \{error, "\*\*\* eval: \{'EXIT',\s*\{schema_broken/s);
  const desc = await w.client.workflow.getHandle('it-migrate-bad').describe();
  assert.equal(existsSync(join(env.hostRoot('prod3'), `ferry/hello/ferry/migrations/it-migrate-bad@${desc.runId}.done`)), false);
});
