import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchFieldsOf, searchPairs, summaryOf } from '../../../core/domain/search';

test('deploys, updates, upgrades and rollouts carry app, environment, version (when known) and their first phase', () => {
  assert.deepEqual(searchFieldsOf('deployRelease', { app: 'hello', environment: 'production', version: '0.2.0' }), {
    app: 'hello', environment: 'production', version: '0.2.0', phase: 'deploying',
  });
  assert.deepEqual(searchFieldsOf('updateRelease', { app: 'hello', environment: 'staging', ref: 'main' }), { app: 'hello', environment: 'staging', phase: 'building' });
  assert.deepEqual(searchFieldsOf('upgradeEnvironment', { app: 'hello', environment: 'staging' })?.phase, 'building');
  assert.deepEqual(searchFieldsOf('rollout', { app: 'hello', version: '1.0.0', stages: [{ environment: 'staging' }, { environment: 'production' }] }), {
    app: 'hello', environment: 'production', version: '1.0.0', phase: 'deploying',
  });
});

test('builds, node commands and prunes carry none; neither does input without an app or environment', () => {
  assert.equal(searchFieldsOf('buildRelease', { app: 'hello' }), undefined);
  assert.equal(searchFieldsOf('nodeCommand', { app: 'hello', environment: 'production' }), undefined);
  assert.equal(searchFieldsOf('deployRelease', { environment: 'production' }), undefined);
  assert.equal(searchFieldsOf('rollout', { app: 'hello', stages: [] }), undefined);
  assert.equal(searchFieldsOf('deployRelease', null), undefined);
});

test('the pairs leave unset fields out; the summary reads as a sentence', () => {
  assert.deepEqual(searchPairs({ app: 'hello', phase: 'done' }).map((p) => [p.key.name, p.value]), [['FerryApp', 'hello'], ['FerryPhase', 'done']]);
  assert.equal(summaryOf('rollout', { app: 'hello', environment: 'production', version: '0.2.0' }), 'rollout hello 0.2.0 to production');
  assert.equal(summaryOf('updateRelease', { app: 'hello', environment: 'staging' }), 'update hello to staging');
});
