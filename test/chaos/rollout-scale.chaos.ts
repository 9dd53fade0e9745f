// The bounded fan-out test (test/workflows/rollout-scale.test.ts) at 10,000 hosts in one batch: every run of the
// rollout under 10,240 events and 500 pending, no failed workflow task. Long (tens of minutes on 2 cores); see
// docs/scale.md. FERRY_SCALE_HOSTS overrides the size.
process.env.FERRY_SCALE_HOSTS ??= '10000';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../workflows/rollout-scale.test');
