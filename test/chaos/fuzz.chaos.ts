import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testEnv } from '../support/env';
import { fuzzSettings, fuzzWorkflows } from '../support/fuzz';
import { summary } from './support';

/**
 * The fuzz family: CHAOS_FUZZ_RUNS (default 2000) hostile inputs over every workflow type, seeded with CHAOS_SEED
 * (default 7; FERRY_FUZZ_SEED overrides it), through the real client, dev server and worker. Every one must be refused
 * without a login, a workflow left running or a worker crash.
 */
const env = testEnv();

test('fuzz: every hostile input is refused, none logs in, sticks or crashes the worker', async () => {
  const settings = fuzzSettings(Number(process.env.CHAOS_FUZZ_RUNS ?? 2000));
  const seed = process.env.FERRY_FUZZ_SEED ? settings.seed : Number(process.env.CHAOS_SEED ?? 7);
  const out = { tried: 0, passed: 0, lost: 0, discarded: 0 };
  try {
    await fuzzWorkflows(env, { ...settings, seed, hosts: ['build', 'prod1', 'prod2', 'prod3', 'other'] }, out);
  } finally {
    summary(`fuzz (seed ${seed})`, out.tried, out.passed, out.lost);
  }
  assert.equal(out.passed, out.tried);
});
