import { z } from 'zod';
import type { HostTarget, SshTarget } from '../domain/host';
import { absolutePath, nodeName, parseSshTarget } from '../domain/host';
import type { MigrationCommands } from '../domain/migrations';
import type { BatchSize } from '../domain/plan';
import { APP_NAME } from '../domain/release';
import { storeDescriptorSchema, type StoreDescriptor } from '../domain/store';

/** The build tools Ferry drives on the build host. */
export type BuildTool = 'rebar3' | 'mix';

/** One deploy environment (`staging`, `production`, or `qa` from QA_HOSTS), with at least one host. */
export interface EnvironmentConfig {
  name: string;
  hosts: HostTarget[];
  /** Staged-rollout settings from <ENV>_REQUIRE_APPROVAL, <ENV>_CANARY, ...; present only when one of them is set. */
  rollout?: RolloutSettings;
}

/** How `ferry rollout <env>` (and `ferry deploy` when approval is required) cuts and gates an environment. */
export interface RolloutSettings {
  requireApproval: boolean;
  canary?: number;
  ramp?: BatchSize[];
  batch?: BatchSize;
  pauseSeconds?: number;
  maxFailures?: number;
  approvalTimeoutSeconds?: number;
}

/** What `.deliver/config` means to Ferry, validated. Plain JSON: it crosses the workflow boundary. */
export interface DeliveryConfig {
  app: string;
  /** The config file, as messages name it. */
  source: string;
  /** The directory that holds `.deliver/`: the git repository to build. */
  projectDir: string;
  buildTool: BuildTool;
  buildHost: SshTarget;
  buildAt: string;
  releaseStore: StoreDescriptor;
  releaseDir?: string;
  environments: Record<string, EnvironmentConfig>;
  ssh: { knownHosts?: string; identityFile?: string };
  /** APPROVERS: who may approve or reject a rollout; unset means anyone. */
  approvers?: string[];
  /** FORBID_SELF_APPROVAL=true: the one who started a rollout may not approve it. */
  forbidSelfApproval?: boolean;
  /** MIGRATE_COMMAND, MIGRATE_DOWN_COMMAND, MIGRATIONS_STATUS_COMMAND, MIGRATE_WHEN; mix apps have default commands. */
  migrations?: MigrationCommands;
}

/** Turns a domain validator (which throws InputError) into a zod predicate, so both judge values alike. */
const passes = (check: (text: string) => unknown) => (text: string) => {
  try {
    check(text);
    return true;
  } catch {
    return false;
  }
};

const ABSOLUTE = 'must be an absolute path of letters, digits and . _ @ + -';
const absolute = () => z.string().refine(passes((t) => absolutePath(t, 'path')), ABSOLUTE);

const sshTarget = z.strictObject({
  name: z.string().describe('How Ferry names the host in output: `address`, or `address:port` when the port is not 22'),
  address: z
    .string()
    .refine(passes((t) => parseSshTarget(t, 'root', 'address')), 'must be a DNS name or IP address')
    .describe('DNS name or IP address reachable over SSH'),
  port: z.number().int().min(1).max(65535).describe('SSH port, 22 unless the entry says `host:port`'),
  // parseSshTarget is the one place that knows what a valid user name is.
  user: z
    .string()
    .refine(passes((t) => parseSshTarget('localhost', t, 'user')), 'must be a plain Unix user name')
    .describe('SSH login: `user@` in the entry, else BUILD_USER or <ENV>_USER'),
});

const hostTarget = sshTarget.extend({
  deployTo: absolute().describe(
    'Deploy root; the release lives in `<deployTo>/<app>`. From the NODES entry, else <ENV>_DELIVER_TO, TEST_AT (staging only), DELIVER_TO',
  ),
  nodeName: z
    .string()
    .refine(passes((t) => nodeName(t, 'node name')), 'must be name@host')
    .describe('NODE_NAME with {app}, {host}, {port}, {index} filled in; default `{app}@{host}`; unique per environment'),
});

const batchSize = z.union([z.number().int().min(1), z.string().regex(/^(?:100|[1-9][0-9]?)%$/) as z.ZodType<`${number}%`>]);

const environment = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/).describe('Lower-case <ENV> of <ENV>_HOSTS / <ENV>_NODES, e.g. QA_HOSTS -> qa'),
  hosts: z
    .array(hostTarget)
    .min(1)
    .describe('<ENV>_HOSTS (`host`, `host:port`, `user@host:port`) then <ENV>_NODES (`user@host[:port]:/deploy/path`)'),
  rollout: z
    .strictObject({
      requireApproval: z.boolean().describe('<ENV>_REQUIRE_APPROVAL=true: deploys go through a rollout that waits for `ferry approve`'),
      canary: z.number().int().min(0).optional().describe('<ENV>_CANARY: hosts in the first batch'),
      ramp: z.array(batchSize).optional().describe('<ENV>_RAMP: batch sizes after the canary, e.g. "1 2 25%"'),
      batch: batchSize.optional().describe('<ENV>_BATCH: size of every later batch, a count or a percentage'),
      pauseSeconds: z.number().min(0).optional().describe('<ENV>_PAUSE: seconds between batches'),
      maxFailures: z.number().int().min(0).optional().describe('<ENV>_MAX_FAILURES: failed hosts tolerated before an operator decides'),
      approvalTimeoutSeconds: z.number().positive().optional().describe('<ENV>_APPROVAL_TIMEOUT: seconds; then the rollout is rejected'),
    })
    .optional(),
});

/** The validated config as data. The `.describe()` texts are the reference for each `.deliver/config` variable. */
export const deliveryConfigSchema = z.strictObject({
  app: z.string().regex(APP_NAME, 'must be an OTP application name').describe('APP: the OTP application (release) name'),
  source: z.string().describe('The config file, as messages name it'),
  projectDir: z.string().min(1).describe('The directory that holds .deliver/: the git repository to build'),
  buildTool: z
    .enum(['rebar3', 'mix'])
    .describe('BUILD_TOOL, else detected: mix.exs -> mix, rebar.config -> rebar3'),
  buildHost: sshTarget.describe('BUILD_HOST (`host`, `host:port`, `user@host:port`); BUILD_USER is the default user'),
  buildAt: absolute().describe('BUILD_AT: the directory on the build host where releases are built (required)'),
  releaseStore: storeDescriptorSchema.describe(
    'RELEASE_STORE: a local directory (relative to projectDir or absolute; default .deliver/releases), user@host[:port]:/path ' +
      '(a directory on a host, over SFTP), or s3://bucket/prefix (RELEASE_STORE_ENDPOINT for an S3-compatible server). ' +
      "edeliver's s3://KEY@SECRET:bucket form is read, but its keys are dropped: the worker takes credentials from its environment",
  ),
  releaseDir: absolute().optional().describe('RELEASE_DIR: where the built release is on the build host'),
  environments: z
    .record(z.string(), environment)
    .describe('One entry per <ENV>_HOSTS or <ENV>_NODES that is set: staging, production, and any other'),
  ssh: z.strictObject({
    knownHosts: absolute().optional().describe('SSH_KNOWN_HOSTS: known_hosts file on the worker machine'),
    identityFile: absolute().optional().describe('SSH_IDENTITY_FILE: private key file on the worker machine'),
  }),
  approvers: z.array(z.string().min(1)).optional().describe('APPROVERS: space-separated names that may approve or reject a rollout'),
  forbidSelfApproval: z.boolean().optional().describe('FORBID_SELF_APPROVAL=true: who started a rollout may not approve it'),
  migrations: z
    .strictObject({
      up: z.string().optional().describe('MIGRATE_COMMAND: expression `bin/<app> eval` runs for `ferry migrate <env> up`; `{version}` is the --version'),
      down: z.string().optional().describe('MIGRATE_DOWN_COMMAND: expression for `ferry migrate <env> down --version=N`; must hold `{version}`'),
      status: z.string().optional().describe('MIGRATIONS_STATUS_COMMAND: expression for `ferry show migrations <env>`'),
      when: z.enum(['before', 'after']).describe('MIGRATE_WHEN: with --run-migrations, before or after the code change (default after)'),
    })
    .optional()
    .describe('Defaults for mix: <App>.Release.migrate({version}), <App>.Release.rollback({version}), <App>.Release.status()'),
}) satisfies z.ZodType<DeliveryConfig>;
