import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Notification } from '../../activities';
import { loadDeliveryConfig } from '../../client/config-file';
import { rolloutPlan } from '../../client/requests';
import { temporal } from '../support/cli';
import { exampleProject, startWorker, testConfig, testEnv } from '../support/env';

/**
 * Rollout notifications to a real HTTP server on 127.0.0.1: NOTIFY_URLS names a token only as `${VAR}`, expanded from
 * the worker's environment by the activity, so the token reaches the server and never the workflow history.
 */
const env = testEnv();
const TOKEN = `tok-${process.pid}-secret`;
let w: Awaited<ReturnType<typeof startWorker>>;
let server: Server;
const received: Array<{ path: string; body: Notification & { link: string; text?: string } }> = [];

before(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data) as Notification & { link: string } });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  process.env.FERRY_TEST_NOTIFY_TOKEN = TOKEN;
  process.env.NOTIFY_URLS = `http://127.0.0.1:${port}/hook?token=\${FERRY_TEST_NOTIFY_TOKEN} slack+http://127.0.0.1:${port}/slack`;
  w = await startWorker(env, 'it-notify');
});
after(async () => {
  delete process.env.NOTIFY_URLS;
  await w?.stop();
  server?.close();
});

test('a rollout rejected at its gate notifies started, waiting for approval and rejected, JSON and Slack; the token stays out of the history', async () => {
  const project = exampleProject(env, testConfig(env, 'PRODUCTION_REQUIRE_APPROVAL=true\n'));
  const config = await loadDeliveryConfig({ cwd: project });
  const plan = rolloutPlan(config, ['production'], { version: '0.1.0' }, 'ana');
  // A downgrade stage looks nothing up in the store, and the rejection comes before any host is touched.
  plan.stages[0] = { ...plan.stages[0]!, action: 'downgrade' };
  const id = 'ferry/hello/notify-test';
  const handle = await w.client.workflow.start('rollout', { taskQueue: w.taskQueue, workflowId: id, args: [plan] });
  for (let i = 0; i < 300 && !received.some((r) => r.body.event === 'waiting for approval'); i++) await new Promise((r) => setTimeout(r, 100));
  await handle.signal('reject', { by: 'bob', comment: 'not today' });
  await assert.rejects(handle.result(), WorkflowFailedError);
  const hooks = received.filter((r) => r.path.startsWith('/hook'));
  assert.deepEqual(hooks.map((r) => r.path), Array(3).fill(`/hook?token=${TOKEN}`), 'the token reached the server');
  assert.deepEqual(hooks.map((r) => [r.body.event, r.body.who]), [['started', 'ana'], ['waiting for approval', 'ana'], ['rejected', 'bob']]);
  const last = hooks[2]!.body;
  assert.deepEqual([last.app, last.environment, last.version, last.hosts.length, last.workflowId], ['hello', 'production', '0.1.0', 3, id]);
  assert.match(last.detail ?? '', /rejected by bob: not today/);
  assert.match(last.link, new RegExp(`^http://localhost:8233/namespaces/default/workflows/ferry%2Fhello%2Fnotify-test/${last.runId}/history$`));
  const slack = received.filter((r) => r.path === '/slack').map((r) => r.body.text ?? '');
  assert.equal(slack.length, 3);
  assert.match(slack[2]!, /^hello 0\.1\.0 to production: rejected \(bob\): .*rejected by bob/);
  const shown = temporal(env, 'workflow', 'show', '--workflow-id', id, '--output', 'json');
  assert.equal(shown.code, 0, shown.err);
  assert.ok(shown.out.includes('"notify"'), 'the notify activity is in the history');
  assert.ok(!shown.out.includes(TOKEN), 'no secret in `temporal workflow show`');
});
