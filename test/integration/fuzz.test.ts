import { test } from 'node:test';
import { testEnv } from '../support/env';
import { fuzzSettings, fuzzWorkflows } from '../support/fuzz';

/**
 * A bounded property-based fuzz of every workflow type's input, through the real client, dev server and worker (the
 * larger round is the `fuzz` family of `npm run chaos`). The seed is new each run and printed:
 * FERRY_FUZZ_SEED=<seed> runs the same cases again, FERRY_FUZZ_RUNS=<n> more or fewer of them.
 */
const env = testEnv();

test('hostile inputs to every workflow type are refused: each closes at once, no login, the worker stays up', async () => {
  const { seed, runs, path } = fuzzSettings(150);
  process.stdout.write(`fuzz: seed ${seed}, ${runs} runs (FERRY_FUZZ_SEED=${seed} FERRY_FUZZ_RUNS=${runs} repeats them)\n`);
  const out = await fuzzWorkflows(env, { runs, seed, path, hosts: ['build', 'prod1', 'prod2', 'prod3', 'other'] });
  process.stdout.write(`fuzz: tried ${out.tried}, passed ${out.passed}, lost ${out.lost}; ${out.discarded} generated inputs were valid and not run\n`);
});
