import { z } from 'zod';
import type { HostTarget, NodeSettings, SshTarget } from '../domain/host';
import { absolutePath, nodeName, parseSshTarget } from '../domain/host';
import { hooksSchema, type Hooks } from '../domain/hooks';
import type { MigrationCommands } from '../domain/migrations';
import { FAILURE_POLICIES, type BatchSize, type FailurePolicy } from '../domain/plan';
import { APP_NAME } from '../domain/release';
import { storeDescriptorSchema, type StoreDescriptor } from '../domain/store';
import { UPGRADE_FALLBACKS, type UpgradeFallback } from '../domain/upgrade-plan';
import { AUTO_VERSION_PARTS, type AutoVersionPart } from '../domain/versioning';
import type { DeployWindow } from '../domain/window';

/** The build tools Ferry drives on the build host. */
export type BuildTool = 'rebar3' | 'mix';

/** One deploy environment (`staging`, `production`, or `qa` from QA_HOSTS), with at least one host. */
export interface EnvironmentConfig {
  name: string;
  hosts: HostTarget[];
  /** Staged-rollout settings from <ENV>_REQUIRE_APPROVAL, <ENV>_CANARY, ...; present only when one of them is set. */
  rollout?: RolloutSettings;
  /** Per-node config from LINK_VM_ARGS, LINK_SYS_CONFIG, COOKIE_FILE, <ENV>_CLUSTER; present only when one is set. */
  node?: NodeSettings;
  /**
   * What is wrong with this environment's node names (a clash, an invalid name, a cluster without names), each a
   * whole message: reported by every command that reaches its nodes, and by no other.
   */
  nodeNameErrors?: string[];
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
  minHealthy?: BatchSize;
  onFailure?: FailurePolicy;
  afterRollback?: 'wait' | 'end';
  /** <ENV>_HEALTH_COMMAND, split into words. */
  healthCommand?: string[];
  healthUrl?: string;
  healthStatus?: number;
  healthRetries?: number;
  healthInterval?: number;
  healthTimeout?: number;
  /** <ENV>_BAKE, <ENV>_BAKE_INTERVAL (seconds) and <ENV>_BAKE_EVAL. */
  bakeSeconds?: number;
  bakeIntervalSeconds?: number;
  bakeEval?: string;
  /** <ENV>_DEPLOY_WINDOW, read. */
  window?: DeployWindow;
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
  ssh: { knownHosts?: string; identityFile?: string; configFile?: string };
  /** APPROVERS: who may approve or reject a rollout; unset means anyone. */
  approvers?: string[];
  /** FORBID_SELF_APPROVAL=true: the one who started a rollout may not approve it. */
  forbidSelfApproval?: boolean;
  /** AUTO_VERSION: what every build appends to the version (the --auto-version flag overrides it). */
  autoVersion?: AutoVersionPart[];
  /** The hook functions the file defines (edeliver's pre_/post_ names), as `declare -f` prints them. */
  hooks?: Hooks;
  /** MIGRATE_COMMAND, MIGRATE_DOWN_COMMAND, MIGRATIONS_STATUS_COMMAND, MIGRATE_WHEN; mix apps have default commands. */
  migrations?: MigrationCommands;
  /** UPGRADE_FALLBACK: what an upgrade does when a hot upgrade is unsafe; unset means restart. */
  upgradeFallback?: UpgradeFallback;
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
  portUnset: z.literal(true).optional().describe('Set when the entry has no port: `Port` of ~/.ssh/config on the worker may replace 22'),
  jump: z
    .array(
      z.strictObject({
        name: z.string(),
        address: z.string().refine(passes((t) => parseSshTarget(t, 'root', 'address')), 'must be a DNS name or IP address'),
        port: z.number().int().min(1).max(65535),
        user: z.string().refine(passes((t) => parseSshTarget('localhost', t, 'user')), 'must be a plain Unix user name').optional(),
        portUnset: z.literal(true).optional(),
      }),
    )
    .optional()
    .describe('<ENV>_SSH_JUMP, BUILD_SSH_JUMP, else SSH_JUMP: ProxyJump hops `[user@]host[:port]`, comma-separated, first hop first; `none` for none'),
  identityFile: absolute().optional().describe('<ENV>_SSH_IDENTITY_FILE / BUILD_SSH_IDENTITY_FILE: key file on the worker machine for these hosts'),
  connectTimeout: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe('<ENV>_SSH_CONNECT_TIMEOUT / BUILD_SSH_CONNECT_TIMEOUT, else SSH_CONNECT_TIMEOUT: seconds to wait for a connection'),
});

const hostTarget = sshTarget.extend({
  deployTo: absolute().describe(
    'Deploy root; the release lives in `<deployTo>/<app>`. From the NODES entry, else <ENV>_DELIVER_TO, TEST_AT (staging only), DELIVER_TO',
  ),
  nodeName: z
    .string()
    .refine(passes((t) => nodeName(t, 'node name')), 'must be name@host')
    .optional()
    .describe(
      '<ENV>_NODE_NAMES, else NODE_NAME with {app}, {host}, {port}, {index} filled in; unique per environment. ' +
        "Unset: the node keeps the name its release's vm.args (or mix's RELEASE_NODE) gives",
    ),
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
      minHealthy: batchSize.optional().describe('<ENV>_MIN_HEALTHY: hosts (a count or a percentage) that must not fail, else the failure policy applies'),
      onFailure: z.enum(FAILURE_POLICIES).optional().describe('<ENV>_ON_FAILURE: halt (default), rollback-batch or rollback-stage, past the failure limit'),
      afterRollback: z.enum(['wait', 'end']).optional().describe('<ENV>_AFTER_ROLLBACK: wait (default) for an operator after a policy rollback, or end the rollout'),
      healthCommand: z.array(z.string().min(1)).min(1).optional().describe('<ENV>_HEALTH_COMMAND: a command run in the deploy root on each host after it is deployed; exit 0 is healthy (words, no shell syntax)'),
      healthUrl: z.string().optional().describe('<ENV>_HEALTH_URL: a URL the worker GETs after each host, {host} is its address, e.g. http://{host}:4000/health'),
      healthStatus: z.number().int().optional().describe('<ENV>_HEALTH_STATUS: the status <ENV>_HEALTH_URL must answer (default 200)'),
      healthRetries: z.number().int().min(0).optional().describe('<ENV>_HEALTH_RETRIES: tries after the first failed one (default 3)'),
      healthInterval: z.number().positive().optional().describe('<ENV>_HEALTH_INTERVAL: seconds between tries (default 2)'),
      healthTimeout: z.number().positive().optional().describe('<ENV>_HEALTH_TIMEOUT: seconds one try may take (default 10)'),
      bakeSeconds: z.number().positive().optional().describe('<ENV>_BAKE: after the canary and after the stage, keep checking the hosts this long (15m, 2h, 1h30m, 90s) before going on; a failed check applies <ENV>_ON_FAILURE'),
      bakeIntervalSeconds: z.number().positive().optional().describe('<ENV>_BAKE_INTERVAL: time between two rounds of checks during the bake (default 1m)'),
      window: z
        .strictObject({ days: z.array(z.number().int()), start: z.number().int(), end: z.number().int(), zone: z.string(), text: z.string() })
        .optional()
        .describe('<ENV>_DEPLOY_WINDOW: days and hours in a named time zone, e.g. "Mon-Fri 09:00-17:00 Europe/Berlin" (days: Mon..Sun, ranges, commas, or daily); a rollout batch outside it waits until it opens'),
      bakeEval: z.string().optional().describe('<ENV>_BAKE_EVAL: an Erlang expression, ending with a dot, evaluated on each node during the bake; it must return true or ok'),
    })
    .optional(),
  node: z
    .strictObject({
      linkVmArgs: absolute()
        .optional()
        .describe('LINK_VM_ARGS (or <ENV>_LINK_VM_ARGS): a vm.args on each host; releases/<vsn>/vm.args links to it and Ferry\'s vm.args includes it'),
      linkSysConfig: absolute().optional().describe('LINK_SYS_CONFIG (or <ENV>_LINK_SYS_CONFIG): a sys.config on each host; releases/<vsn>/sys.config links to it'),
      cookieFile: absolute()
        .optional()
        .describe('COOKIE_FILE (or <ENV>_COOKIE_FILE): the Erlang cookie in a file on the worker machine; written to each host with mode 0400'),
      cluster: z
        .strictObject({
          mode: z.enum(['optional', 'mandatory']).describe('<ENV>_CLUSTER: true or optional (sync_nodes_optional), mandatory (sync_nodes_mandatory)'),
          nodes: z.array(z.string().refine(passes((t) => nodeName(t, 'node name')), 'must be name@host')).describe('The node names of every host'),
          timeoutMs: z.number().int().min(1).describe('<ENV>_CLUSTER_TIMEOUT: sync_nodes_timeout in milliseconds, default 30000'),
          distributed: z
            .strictObject({ failoverMs: z.number().int().min(0) })
            .optional()
            .describe('<ENV>_CLUSTER_DISTRIBUTED=<ms>: kernel `distributed`: the app runs on the first node, else on another after <ms>'),
        })
        .optional(),
    })
    .optional(),
  nodeNameErrors: z
    .array(z.string())
    .optional()
    .describe('Problems with the node names (a clash, an invalid name, a cluster without names): reported by commands that reach the nodes'),
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
    configFile: z
      .union([z.literal('none'), absolute()])
      .optional()
      .describe('SSH_CONFIG: OpenSSH client config the worker reads instead of ~/.ssh/config (FERRY_SSH_CONFIG on the worker); `none` reads none'),
  }),
  approvers: z.array(z.string().min(1)).optional().describe('APPROVERS: space-separated names that may approve or reject a rollout'),
  forbidSelfApproval: z.boolean().optional().describe('FORBID_SELF_APPROVAL=true: who started a rollout may not approve it'),
  autoVersion: z
    .array(z.enum(AUTO_VERSION_PARTS))
    .min(1)
    .optional()
    .describe('AUTO_VERSION: metadata every build appends to the version, e.g. commit-count+git-revision (--auto-version overrides it)'),
  hooks: hooksSchema.describe(
    'pre_/post_ bash functions (pre_erlang_clean_compile, post_extract_release_archive, ...): run over SSH on the host of their step',
  ),
  migrations: z
    .strictObject({
      up: z.string().optional().describe('MIGRATE_COMMAND: expression `bin/<app> eval` runs for `ferry migrate <env> up`; `{version}` is the --version'),
      down: z.string().optional().describe('MIGRATE_DOWN_COMMAND: expression for `ferry migrate <env> down --version=N`; must hold `{version}`'),
      status: z.string().optional().describe('MIGRATIONS_STATUS_COMMAND: expression for `ferry show migrations <env>`'),
      when: z.enum(['before', 'after']).describe('MIGRATE_WHEN: with --run-migrations, before or after the code change (default after)'),
    })
    .optional()
    .describe('Defaults for mix: <App>.Release.migrate({version}), <App>.Release.rollback({version}), <App>.Release.status()'),
  upgradeFallback: z
    .enum(UPGRADE_FALLBACKS)
    .optional()
    .describe('UPGRADE_FALLBACK: when an upgrade\'s plan says a hot upgrade is unsafe, or a hot upgrade fails its checks: restart (default: a rolling restart onto the new release) or refuse (touch no node; downgrade after a failed hot upgrade); --hot-only means refuse'),
}) satisfies z.ZodType<DeliveryConfig>;
