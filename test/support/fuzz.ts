import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload, type PayloadCodec } from '@temporalio/common';
import fc from 'fast-check';
import { loadDeliveryConfig } from '../../client/config-file';
import {
  buildRequest,
  buildUpgradeRequest,
  deployRequest,
  deployUpgradeRequest,
  migrateRequest,
  nodeCommandRequest,
  pruneRequest,
  rolloutPlan,
  upgradeEnvironmentRequest,
} from '../../client/requests';
import { TASK_QUEUE } from '../../core/domain/constants';
import { WORKFLOW_INPUTS, type WorkflowType } from '../../core/domain/workflow-inputs';
import { spawnWorker, stopWorker } from './cli';
import { exampleProject, loginCount, testConfig, type TestEnv } from './env';

/**
 * Property-based fuzzing of every workflow type's input through the real Temporal client, the dev server and a real
 * `ferry worker`: a valid request that names the real test hosts, with one to three fields made hostile (shell
 * metacharacters, newlines, NUL, option look-alikes, path traversal, unicode, huge strings, wrong types, lists past
 * their bounds), or an input the SDK cannot even decode. Each must be refused (the workflow closes failed within
 * seconds), with no login on any host and the worker still up. A generated input that the workflow's own schema would
 * accept is discarded (`fc.pre`): it is not hostile, and it would log in.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

/** How a field is judged, from its key: what makes a value of it certainly invalid. */
type Kind = 'ident' | 'version' | 'ref' | 'host' | 'user' | 'path' | 'node' | 'enum' | 'hex' | 'int' | 'seconds' | 'bool' | 'code' | 'hook' | 'word' | 'person' | 'info' | 'url' | 'size';

const KINDS: Record<string, Kind> = {
  app: 'ident', environment: 'ident',
  version: 'version', with: 'version', fromVersion: 'version', set: 'version',
  ref: 'ref', from: 'ref', runKey: 'ref', bucket: 'ref', endpoint: 'url',
  address: 'host', name: 'host', user: 'user',
  deployTo: 'path', projectDir: 'path', buildAt: 'path', releaseDir: 'path', dir: 'path', path: 'path', prefix: 'path',
  identityFile: 'path', knownHostsFile: 'path', configFile: 'path', cookieFile: 'path', linkVmArgs: 'path', linkSysConfig: 'path',
  nodeName: 'node', nodes: 'node', expectedNodes: 'node',
  tool: 'enum', command: 'enum', direction: 'enum', kind: 'enum', action: 'enum', mode: 'enum', onFailure: 'enum',
  afterRollback: 'enum', when: 'enum', type: 'enum', source: 'enum', auto: 'enum', increment: 'enum',
  sha256: 'hex', gitRevision: 'hex',
  port: 'int', maxParallel: 'int', keep: 'int', canary: 'int', maxFailures: 'int', retries: 'int', expectStatus: 'int',
  timeoutMs: 'int', failoverMs: 'int', connectTimeout: 'int', size: 'int', continueAsNewAfterEvents: 'int',
  pauseSeconds: 'seconds', intervalSeconds: 'seconds', timeoutSeconds: 'seconds', approvalTimeoutSeconds: 'seconds',
  startDeploy: 'bool', skipExisting: 'bool', healthCheck: 'bool', approveBefore: 'bool', approveAfterCanary: 'bool',
  forbidSelfApproval: 'bool', portUnset: 'bool',
  expression: 'code', hooks: 'hook', startedBy: 'person', approvers: 'person',
  storeKey: 'info', builtAt: 'info', gitBranch: 'info', text: 'info',
  url: 'url', batch: 'size', minHealthy: 'size', ramp: 'size',
};

/** Pieces no strict field accepts; a hostile value holds at least one. */
const UNSAFE = [';', '$(touch /tmp/fuzzed)', '`id`', '|', '&', '>', '<', ' ', '\t', '\n', '\r', '\0', "'", '"', '\\', '*', '?', '!', '{', '}', '/../', '\u202e', '\u200b', 'é', '😀', '\u0000id'];
/** What a version may not hold, whatever its syntax: shell and path characters. */
const UNSAFE_VERSION = [';', '$(id)', '`id`', '|', '&', ' ', '\n', '\0', "'", '"', '\\', '/../', '/'];
const HUGE = 'x'.repeat(300_000);
const LOOKALIKES = ['-oProxyCommand=touch /tmp/fuzzed', '--upload-pack=touch /tmp/fuzzed', '-eval', '../../../etc/passwd', '/opt/../etc/shadow'];

const junk = fc.string({ maxLength: 6, unit: 'grapheme' });
/** A value of another JSON type than the field's. */
const wrongType = (v: Json): fc.Arbitrary<Json> =>
  fc.constantFrom<Json>(null, true, 0, -1, 1e21, '1;id', [], [null], {}, { toString: 1 }).filter((x) => typeof x !== typeof v || Array.isArray(x) !== Array.isArray(v) || x === null);

/** A string around `base` with one unsafe piece in it. */
const injected = (base: string, pieces: readonly string[]) =>
  fc.tuple(junk, fc.constantFrom(...pieces), junk, fc.nat(base.length)).map(([a, bad, b, at]) => `${base.slice(0, at)}${a}${bad}${b}${base.slice(at)}`);

/** Values certainly invalid for a field of `kind` whose valid value is `v`. */
function hostile(kind: Kind | undefined, v: Json): fc.Arbitrary<Json> {
  const base = typeof v === 'string' ? v : 'x';
  switch (kind) {
    case 'version':
      return fc.oneof(injected(base, UNSAFE_VERSION), fc.constant(HUGE), wrongType(v));
    case 'ident':
    case 'ref':
    case 'host':
    case 'user':
    case 'path':
    case 'node':
    case 'enum':
    case 'hex':
      return fc.oneof(injected(base, UNSAFE), fc.constantFrom(...LOOKALIKES, HUGE, ''), wrongType(v));
    case 'url':
      return fc.oneof(injected(base, [' ', '\n', '\t', '\0', '\u0007']), fc.constantFrom('file:///etc/passwd', 'ftp://x', HUGE), wrongType(v));
    case 'size':
      return fc.oneof(fc.constantFrom<Json>(0, -1, 1001, 1.5, '0%', '101%', '25 %', '1;id', HUGE), wrongType(v));
    case 'int':
      return fc.oneof(fc.constantFrom<Json>(-1, 1.5, 1e21, -1e21, '7', '1;id'), wrongType(v));
    case 'seconds':
      return fc.oneof(fc.constantFrom<Json>(-1, -0.5, 1e12, 1e300, '2', '1e-7'), wrongType(v));
    case 'bool':
      return fc.oneof(fc.constantFrom<Json>('true', 1, 0, 'yes'), wrongType(v));
    case 'code':
    case 'word':
      return fc.oneof(injected(base, ['\0']), fc.constantFrom('', HUGE), wrongType(v));
    case 'hook':
      return fc.oneof(injected(base, ['\0']), fc.constantFrom('echo pwned; true', HUGE), wrongType(v));
    case 'person':
      return fc.oneof(injected(base, ['\n', '\0', '\r', '\u0007']), fc.constantFrom('', HUGE), wrongType(v));
    case 'info':
      return fc.oneof(fc.constant(HUGE), wrongType(v));
    default:
      return wrongType(v);
  }
}

/** Every field of a JSON value with its path and kind (array items take their list's kind). */
function fields(v: Json, path: Path = [], kind?: Kind, parentKey?: string): Array<{ path: Path; value: Json; kind?: Kind; parentKey?: string }> {
  const here = path.length > 0 ? [{ path, value: v, kind, parentKey }] : [];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => fields(x, [...path, i], kind === 'enum' && Array.isArray(x) ? undefined : kind, parentKey))];
  if (v !== null && typeof v === 'object') {
    return [
      ...here,
      ...Object.entries(v).flatMap(([k, x]) => {
        // `command` is a node command's name, or a health command's words.
        const kk: Kind | undefined = k === 'command' && Array.isArray(x) ? 'word' : parentKey === 'hooks' ? 'hook' : KINDS[k];
        return fields(x, [...path, k], kk, k);
      }),
    ];
  }
  return here;
}

const setAt = (root: Json, path: Path, value: Json): Json => {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as Record<string, Json>) }) as Record<string | number, Json>;
  copy[head!] = setAt(copy[head!] ?? null, rest, value);
  return copy as Json;
};

/** One hostile change to `input`: a field, a list past its bounds or with a name twice, an unknown key, or the whole input. */
function mutation(input: Json): fc.Arbitrary<{ input: Json; what: string }> {
  const all = fields(input);
  const lists = all.filter((f) => Array.isArray(f.value) && (f.parentKey === 'hosts' || f.parentKey === 'stages'));
  const objects = all.filter((f) => f.value !== null && typeof f.value === 'object' && !Array.isArray(f.value) && f.parentKey !== 'release' && f.parentKey !== 'hooks');
  const show = (p: Path) => p.join('.') || '(input)';
  const whole = fc.constantFrom<Json>(null, 'deploy', 42, [], [input], true).map((v) => ({ input: v, what: `the input is ${JSON.stringify(v).slice(0, 40)}` }));
  // An input already replaced by a scalar has no field left to change.
  if (all.length === 0) return whole;
  const field = fc.constantFrom(...all).chain((f) => hostile(f.kind, f.value).map((v) => ({ input: setAt(input, f.path, v), what: `${show(f.path)} = ${JSON.stringify(v).slice(0, 60)}` })));
  const list = (f: (typeof all)[number]) => {
    const items = f.value as Json[];
    return fc
      .constantFrom<[string, Json]>(['empty', []], ['twice', [...items, ...items]], ['1001 long', Array.from({ length: 1001 }, () => items[0] ?? null)])
      .map(([w, v]) => ({ input: setAt(input, f.path, v), what: `${show(f.path)}: ${w}` }));
  };
  const unknownKey = fc
    .tuple(fc.constantFrom(...objects, { path: [] as Path }), fc.constantFrom('command', '__proto__x', 'rm -rf /', HUGE.slice(0, 5000)))
    .map(([o, k]) => ({ input: setAt(input, [...o.path, k], 'x'), what: `unknown key at ${show(o.path)}` }));
  return fc.oneof(
    { weight: 12, arbitrary: field },
    { weight: lists.length ? 2 : 0, arbitrary: lists.length ? fc.constantFrom(...lists).chain(list) : field },
    { weight: 2, arbitrary: unknownKey },
    { weight: 1, arbitrary: whole },
  );
}

/**
 * Raw payloads that are not what a JSON client sends, through a client codec. (A payload the SDK cannot decode at all,
 * an unknown encoding or bytes that are no JSON, fails the workflow task before any workflow code runs: left out.)
 */
const RAW: Array<{ what: string; payloads: Payload[] }> = [
  { what: 'binary bytes instead of JSON', payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from([0, 1, 2]) }] },
  { what: 'a null payload', payloads: [{ metadata: { encoding: Buffer.from('binary/null') } }] },
  { what: 'JSON nested 100,000 deep', payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) }] },
  { what: 'no argument at all', payloads: [] },
];

export interface FuzzCase {
  type: WorkflowType;
  args: Json[];
  raw?: Payload[];
  what: string[];
}

/** A valid request of every workflow type, naming the real test hosts (every optional part set), so an accepted input would log in. */
export async function validInputs(env: TestEnv): Promise<Record<WorkflowType, Json>> {
  const cookie = `${env.state}/fuzz.cookie`;
  const config = await loadDeliveryConfig({
    cwd: exampleProject(
      env,
      testConfig(
        env,
        `STAGING_HOSTS="root@${env.host('other')}"
COOKIE_FILE="${cookie}"
LINK_VM_ARGS="/opt/hello-node/vm.args"
PRODUCTION_CLUSTER=true
PRODUCTION_CANARY=1
PRODUCTION_RAMP="1 50%"
PRODUCTION_HEALTH_COMMAND="bin/hello ping"
PRODUCTION_HEALTH_URL="http://{host}:4000/health"
APPROVERS="alice bob"
MIGRATE_COMMAND="hello_release:migrate({version})."
PRODUCTION_SSH_JUMP="root@${env.host('build')}"
pre_extract_release_archive() { echo extracting; }
pre_erlang_clean_compile() { echo compiling; }
`,
      ),
    ),
  });
  const release = { app: 'hello', version: '0.1.0', type: 'release', sha256: 'ab'.repeat(32), size: 10, storeKey: '/s/hello_0.1.0.release.tar.gz', builtAt: '2026-01-01T00:00:00Z', gitRevision: 'cd'.repeat(20) };
  const deploy = deployRequest(config, 'production', { version: '0.1.0', startDeploy: true, maxParallel: 3 });
  const build = buildRequest(config, { tag: '0.1.0', setVersion: '0.1.1', autoVersion: 'git-revision' });
  const onHost = { host: deploy.hosts[0]!, app: 'hello', store: deploy.store, ssh: deploy.ssh, hooks: deploy.hooks, environment: 'production' };
  const inputs = {
    buildRelease: build,
    deployRelease: deploy,
    hostDeploy: { ...onHost, release, startDeploy: true, node: deploy.node },
    nodeCommand: nodeCommandRequest(config, 'production', 'cluster'),
    updateRelease: { ...build, environment: 'production', hosts: deploy.hosts, startDeploy: true, maxParallel: 3, node: deploy.node, migrations: { when: 'after', expression: 'ok.' } },
    pruneReleases: pruneRequest(config, 'production', 2),
    rollout: rolloutPlan(config, ['staging', 'production'], { version: '0.1.0', approveBefore: true, approvalTimeout: 3600, pause: 5, maxFailures: 1 }, 'ana'),
    buildUpgrade: buildUpgradeRequest(config, { from: '0.1.0', to: '0.2.0', with: '0.1.0' }),
    deployUpgrade: deployUpgradeRequest(config, 'production', { version: '0.2.0', runMigrations: true }),
    hostUpgrade: { ...onHost, release: { ...release, version: '0.2.0', type: 'upgrade', fromVersion: '0.1.0', appup: { app: 'hello', source: 'generated', text: '{"0.2.0",[],[]}.' } } },
    upgradeEnvironment: upgradeEnvironmentRequest(config, 'production', { runMigrations: true, maxParallel: 2 }),
    migrate: { ...migrateRequest(config, 'production', 'up', { version: '3' }), runKey: 'fuzz@run' },
  } as unknown as Record<WorkflowType, Json>;
  for (const [type, input] of Object.entries(inputs)) {
    const parsed = WORKFLOW_INPUTS[type as WorkflowType].safeParse(input);
    assert.ok(parsed.success, `the fuzz's ${type} base input is valid: ${parsed.error?.message}`);
  }
  return inputs;
}

/** Hostile cases over every workflow type: mostly mutated inputs, some raw undecodable payloads, a rollout's second argument. */
export function fuzzCases(valid: Record<WorkflowType, Json>): fc.Arbitrary<FuzzCase> {
  const types = Object.keys(valid) as WorkflowType[];
  const mutated = fc.constantFrom(...types).chain((type) =>
    fc.integer({ min: 1, max: 3 }).chain((n) => {
      let arb: fc.Arbitrary<{ input: Json; what: string[] }> = fc.constant({ input: valid[type], what: [] });
      for (let i = 0; i < n; i++) arb = arb.chain((s) => mutation(s.input).map((m) => ({ input: m.input, what: [...s.what, m.what] })));
      return arb.map((s): FuzzCase => ({ type, args: [s.input], what: s.what }));
    }),
  );
  const raw = fc.tuple(fc.constantFrom(...types), fc.constantFrom(...RAW)).map(([type, r]): FuzzCase => ({ type, args: ['raw'], raw: r.payloads, what: [r.what] }));
  const carry = fc.constantFrom<Json>({ progress: { stages: [] }, at: { stage: 9, batch: 0 } }, null, 'x', { toString: 1 }).map((c): FuzzCase => ({ type: 'rollout', args: [valid.rollout, c], what: ['a second argument'] }));
  return fc.oneof({ weight: 20, arbitrary: mutated }, { weight: 1, arbitrary: raw }, { weight: 1, arbitrary: carry });
}

/** The innermost failure of a closed workflow, as a line. */
function failureText(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e);
}

/** A codec that replaces the encoded arguments of a start with raw payloads (the `raw` of a case). */
class RawCodec implements PayloadCodec {
  next?: Payload[];
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const raw = this.next;
    this.next = undefined;
    return raw ?? payloads;
  }
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }
}

export interface FuzzOutcome {
  tried: number;
  passed: number;
  lost: number;
  discarded: number;
}

/**
 * Runs `runs` cases from `seed` (FERRY_FUZZ_PATH replays one failing case) against a `ferry worker` it starts on the
 * `ferry` task queue; every case must close failed within `closeWithinMs`, with no login on `hosts` and the worker up.
 * Counts go to `out` as they happen, so a caller can report them when a case fails.
 */
export async function fuzzWorkflows(
  env: TestEnv,
  opts: { runs: number; seed: number; hosts: string[]; closeWithinMs?: number; path?: string },
  out: FuzzOutcome = { tried: 0, passed: 0, lost: 0, discarded: 0 },
): Promise<FuzzOutcome> {
  const valid = await validInputs(env);
  const codec = new RawCodec();
  const connection = await Connection.connect({ address: env.temporalAddress });
  const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
  const worker: ChildProcess = spawnWorker('fatal');
  const logins = () => opts.hosts.reduce((n, h) => n + loginCount(env, h), 0);
  let n = 0;
  try {
    const property = fc.asyncProperty(fuzzCases(valid), async (c) => {
      // Not hostile after all: the workflow would accept it, and run it against the real hosts.
      if (!c.raw && c.args.length === 1 && WORKFLOW_INPUTS[c.type].safeParse(c.args[0]).success) {
        out.discarded++;
        fc.pre(false);
      }
      out.tried++;
      const before = logins();
      const workflowId = `fuzz-${opts.seed}-${++n}`;
      codec.next = c.raw;
      const outcome = await client.workflow.start(c.type, { taskQueue: TASK_QUEUE, workflowId, args: c.args }).then(
        async (handle) => {
          let timer: NodeJS.Timeout | undefined;
          const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), opts.closeWithinMs ?? 30_000)));
          const r = await Promise.race([handle.result().then(() => 'completed', (err: unknown) => err), stuck]).finally(() => clearTimeout(timer));
          if (r === 'stuck') await handle.terminate('fuzz: still running').catch(() => undefined);
          return r;
        },
        (err: unknown) => ({ refusedAtStart: String(err) }),
      );
      const loggedIn = logins() - before;
      const refused =
        (typeof outcome === 'object' && outcome !== null && 'refusedAtStart' in outcome) ||
        (outcome instanceof WorkflowFailedError && outcome.cause instanceof ApplicationFailure && outcome.cause.type === 'InputError' && outcome.cause.nonRetryable);
      const ok = refused && loggedIn === 0 && worker.exitCode === null;
      if (ok) out.passed++;
      else if (loggedIn > 0 || outcome === 'stuck') out.lost++;
      assert.ok(
        ok,
        `${c.type} (${c.what.join('; ')}) as ${workflowId}: ${outcome === 'stuck' ? 'still running' : outcome instanceof Error ? failureText(outcome) : JSON.stringify(outcome)}, ${loggedIn} login(s), worker ${worker.exitCode === null ? 'up' : `exited ${worker.exitCode}`}`,
      );
    });
    await fc.assert(property, { seed: opts.seed, numRuns: opts.runs, endOnFailure: true, ...(opts.path ? { path: opts.path } : {}), maxSkipsPerRun: 100 });
  } finally {
    await stopWorker(worker);
    await connection.close();
  }
  return out;
}

/** FERRY_FUZZ_SEED (default: a new one, printed), FERRY_FUZZ_RUNS (default `runs`) and FERRY_FUZZ_PATH. */
export function fuzzSettings(runs: number): { seed: number; runs: number; path?: string } {
  const seed = process.env.FERRY_FUZZ_SEED ? Number(process.env.FERRY_FUZZ_SEED) : Date.now() % 2 ** 31;
  return { seed, runs: Number(process.env.FERRY_FUZZ_RUNS ?? runs), ...(process.env.FERRY_FUZZ_PATH ? { path: process.env.FERRY_FUZZ_PATH } : {}) };
}
