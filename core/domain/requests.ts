import { z } from 'zod';
import { InputError, shown } from './errors';
import { absolutePath, hostName, nodeName, parseSshTarget, type HostTarget, type SshTarget } from './host';
import { LIMITS } from './limits';
import { APP_NAME, gitRef, version, type StoredRelease } from './release';
import { hooksSchema } from './hooks';
import type { MigrateResult } from './migrations';
import type { Preflight } from './preflight';
import { storeDescriptorSchema } from './store';
import { UPGRADE_FALLBACKS } from './upgrade-plan';
import { versioningSchema } from './versioning';

/**
 * What workflows accept: plain JSON, checked again inside the workflow because a user can type it into
 * `temporal workflow start --input` without Ferry's CLI.
 */

const check =
  <T>(fn: (s: string) => T) =>
  (s: string, ctx: z.RefinementCtx) => {
    try {
      fn(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  };

export const appSchema = z.string().max(LIMITS.name, `must be at most ${LIMITS.name} characters`).regex(APP_NAME, 'must be an OTP application name like my_app');
/** A release version (core/domain/release `version`): the message names what is wrong with it. */
export const versionSchema = z.string().superRefine(check(version));
export const pathSchema = z.string().superRefine(check((s) => absolutePath(s, 'path')));
const port = z.number().int().min(1).max(65535);
const user = z.string().max(LIMITS.user, `must be at most ${LIMITS.user} characters`).regex(/^[a-z_][a-z0-9_-]*$/, 'must be a plain Unix user name');
const name = z.string().superRefine(check((s) => hostName(s, 'name')));
const nodeNameSchema = z.string().superRefine(check((s) => nodeName(s, 'node name')));
/** A list of at most `max` items, with a message that names the bound. */
const list = <T extends z.ZodType>(item: T, max: number, what: string) => z.array(item).max(max, `at most ${max} ${what}`);
/** Who started, approved or decided: one line of printable text. */
export const personSchema = z
  .string()
  .min(1)
  .max(LIMITS.person, `must be at most ${LIMITS.person} characters`)
  .refine((s) => !/[\p{Cc}]/u.test(s), 'must be one line without control characters');

const hop = z
  .strictObject({ name, address: z.string().min(1), port, user: user.optional(), portUnset: z.literal(true).optional() })
  .superRefine((h, ctx) => check(() => parseSshTarget(`${h.user ?? 'root'}@${h.address}:${h.port}`, undefined, 'jump host'))('', ctx));
const target = {
  name,
  address: z.string().min(1),
  port,
  user,
  portUnset: z.literal(true).optional(),
  jump: z.array(hop).max(8, 'at most 8 jump hosts').optional(),
  identityFile: pathSchema.optional(),
  connectTimeout: z.number().int().min(1).max(3600).optional(),
};
const reachable = (h: { address: string; port: number; user: string }, ctx: z.RefinementCtx) =>
  check(() => parseSshTarget(`${h.user}@${h.address}:${h.port}`, undefined, 'host'))('', ctx);

const sshTarget = z.strictObject(target).superRefine(reachable);

/** A deploy target as workflows accept it; shared with the rollout plan. */
export const hostTargetSchema = z
  .strictObject({ ...target, deployTo: pathSchema, nodeName: z.string().superRefine(check((s) => nodeName(s, 'nodeName'))).optional() })
  .superRefine(reachable);

/**
 * The hosts of one request: 1 to 1000 (a workflow run may have at most 2,000 children or activities pending), each
 * name once (it names the host's child workflow and its line in the progress).
 */
export const hostListSchema = (max: number) =>
  list(hostTargetSchema, max, 'hosts')
    .min(1, 'names no host')
    .superRefine((hosts, ctx) => {
      const seen = new Set<string>();
      hosts.forEach((h, i) => {
        if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${shown(h.name)} is listed twice` });
        seen.add(h.name);
      });
    });
export const hostsSchema = hostListSchema(LIMITS.hosts);

/** LINK_VM_ARGS, LINK_SYS_CONFIG, COOKIE_FILE and the cluster of an environment, as hostDeploy takes them. */
export const nodeSettingsSchema = z
  .strictObject({
    linkVmArgs: pathSchema.optional(),
    linkSysConfig: pathSchema.optional(),
    cookieFile: pathSchema.optional(),
    cluster: z
      .strictObject({
        mode: z.enum(['optional', 'mandatory']),
        nodes: list(nodeNameSchema, LIMITS.hosts, 'nodes').min(1),
        timeoutMs: z.number().int().min(1).max(24 * 3600 * 1000),
        distributed: z.strictObject({ failoverMs: z.number().int().min(0).max(24 * 3600 * 1000) }).optional(),
      })
      .optional(),
  })
  .optional();

export const sshSettingsSchema = z
  .strictObject({ knownHostsFile: pathSchema.optional(), identityFile: pathSchema.optional(), configFile: z.union([z.literal('none'), pathSchema]).optional() })
  .optional();

/** An environment name as `.deliver/config` defines it (QA_HOSTS -> qa), at most 64 characters. */
export const environmentSchema = z
  .string()
  .max(LIMITS.name, `must be at most ${LIMITS.name} characters`)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be an environment name like production');

/** Migrations as one step of an update, upgrade or rollout stage (`--run-migrations`); see core/domain/migrations. */
export const migrationStepSchema = z.strictObject({
  when: z.enum(['before', 'after']).default('after').describe('Run them before the hosts are changed, or after every host is done'),
  expression: z
    .string()
    .min(1, 'is empty')
    .max(4000, 'is longer than 4000 characters')
    .refine((s) => !s.includes('\0'), 'cannot contain NUL')
    .describe('The expression `bin/<app> eval` runs (MIGRATE_COMMAND, `{version}` filled in)'),
});
export type MigrationStep = z.input<typeof migrationStepSchema>;

/** UPGRADE_FALLBACK, or `refuse` for --hot-only: what an upgrade does when its plan says a hot upgrade is unsafe. */
export const upgradeFallbackSchema = z
  .enum(UPGRADE_FALLBACKS)
  .default('restart')
  .describe('restart: a rolling restart onto the new release (also after a hot upgrade that fails its checks); refuse: touch no node (and downgrade after a failed hot upgrade)');

export const buildRequestSchema = z.strictObject({
  app: appSchema,
  projectDir: pathSchema,
  ref: z.string().superRefine(check((s) => gitRef(s, 'ref'))),
  buildHost: sshTarget,
  buildAt: pathSchema,
  tool: z.enum(['rebar3', 'mix']),
  releaseDir: pathSchema.optional(),
  store: storeDescriptorSchema,
  /** When the store already has a release built from the same git revision, return it instead of building. */
  skipExisting: z.boolean().optional(),
  ssh: sshSettingsSchema,
  /** `.deliver/config` hook functions (their text), run on the build host and the target hosts at edeliver's points. */
  hooks: hooksSchema,
  /** --set-version, --increment-version, --auto-version: the version is rewritten in the build host's checkout. */
  versioning: versioningSchema,
});

export const deployRequestSchema = z.strictObject({
  app: appSchema,
  environment: environmentSchema,
  version: versionSchema,
  hosts: hostsSchema,
  store: storeDescriptorSchema,
  startDeploy: z.boolean().default(false),
  maxParallel: z.number().int().min(1).max(500).default(10),
  ssh: sshSettingsSchema,
  /** Per-node config: links to per-host vm.args/sys.config, the cookie file, the cluster. */
  node: nodeSettingsSchema,
  hooks: hooksSchema,
});

export const nodeCommandRequestSchema = z.strictObject({
  app: appSchema,
  environment: environmentSchema,
  /** `cluster`: which nodes each node is connected to (`nodes()`). */
  command: z.enum(['start', 'stop', 'restart', 'ping', 'version', 'cluster']),
  hosts: hostsSchema,
  /** For `cluster`: every node of the environment; a node that does not see all the others fails. */
  expectedNodes: list(nodeNameSchema, LIMITS.hosts, 'nodes').optional(),
  ssh: sshSettingsSchema,
});

export const pruneRequestSchema = z.strictObject({
  app: appSchema,
  environment: environmentSchema,
  keep: z.number().int().min(1).max(1000),
  hosts: hostsSchema,
  ssh: sshSettingsSchema,
});

export const updateRequestSchema = buildRequestSchema.extend({
  environment: deployRequestSchema.shape.environment,
  hosts: deployRequestSchema.shape.hosts,
  startDeploy: deployRequestSchema.shape.startDeploy,
  maxParallel: deployRequestSchema.shape.maxParallel,
  node: deployRequestSchema.shape.node,
  migrations: migrationStepSchema.optional(),
});

export const buildUpgradeRequestSchema = buildRequestSchema
  .extend({
    /** The git branch, tag or revision of the old release (v1); rebuilt unless the store has its version. */
    from: z.string().superRefine(check((s) => gitRef(s, 'from'))).optional(),
    /** The old release's version, taken from the store instead of being rebuilt. */
    with: versionSchema.optional(),
  })
  .refine((r) => r.from !== undefined || r.with !== undefined, { message: 'needs `from` (a git revision) or `with` (a stored version)', path: ['from'] });

export const deployUpgradeRequestSchema = z.strictObject({
  app: appSchema,
  environment: deployRequestSchema.shape.environment,
  /** The upgrade's target version; default: the newest upgrade in the store. */
  version: versionSchema.optional(),
  hosts: deployRequestSchema.shape.hosts,
  store: storeDescriptorSchema,
  maxParallel: deployRequestSchema.shape.maxParallel,
  migrations: migrationStepSchema.optional(),
  ssh: sshSettingsSchema,
  hooks: hooksSchema,
  /** Per-node config, for hosts restarted onto the new release instead of hot-upgraded. */
  node: deployRequestSchema.shape.node,
  upgradeFallback: upgradeFallbackSchema,
});

/** `ferry upgrade <env>`: build the upgrade from what the running nodes agree on to `ref`, then upgrade them. */
export const upgradeEnvironmentRequestSchema = buildRequestSchema.extend({
  environment: deployRequestSchema.shape.environment,
  hosts: deployRequestSchema.shape.hosts,
  maxParallel: deployRequestSchema.shape.maxParallel,
  /** Per-node config for the stopped nodes, which get the full release. */
  node: deployRequestSchema.shape.node,
  migrations: migrationStepSchema.optional(),
  upgradeFallback: upgradeFallbackSchema,
});

/**
 * A release manifest as the store keeps it and as host children take it. Fields Ferry does not know are kept: a
 * manifest written by a newer Ferry may have more.
 */
export const storedReleaseSchema = z.looseObject({
  app: appSchema,
  version: versionSchema,
  type: z.enum(['release', 'upgrade']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  size: z.number().int().min(0),
  storeKey: z.string().min(1).max(LIMITS.path + LIMITS.url),
  gitRevision: z.string().regex(/^[0-9a-f]{4,64}$/, 'must be a git commit id').optional(),
  gitBranch: z.string().max(LIMITS.gitRef).optional(),
  builtAt: z.string().max(64),
  fromVersion: versionSchema.optional(),
  appup: z.strictObject({ app: appSchema, source: z.enum(['application', 'generated']), text: z.string().max(1024 * 1024) }).optional(),
});

/** What a host child (hostDeploy, hostUpgrade) takes: one host, one stored release of the request's app. */
const releaseOnHost = {
  host: hostTargetSchema,
  app: appSchema,
  release: storedReleaseSchema,
  store: storeDescriptorSchema,
  ssh: sshSettingsSchema,
  hooks: hooksSchema,
  environment: environmentSchema.optional(),
};
const sameApp = { message: 'is a release of another app', path: ['release', 'app'] };

/** `hostDeploy`: a child of deployRelease, updateRelease, upgradeEnvironment and rollout, and a public entry point too. */
export const hostDeployRequestSchema = z
  .strictObject({
    ...releaseOnHost,
    startDeploy: z.boolean(),
    node: nodeSettingsSchema,
    forceRestart: z.boolean().optional(),
    fallback: z.string().max(4000, 'must be at most 4000 characters').optional(),
  })
  .refine((r) => r.release.app === r.app, sameApp);

/** `hostUpgrade`: a child of deployUpgrade, upgradeEnvironment and rollout, and a public entry point too. */
export const hostUpgradeRequestSchema = z
  .strictObject({ ...releaseOnHost, upgradeFallback: z.enum(UPGRADE_FALLBACKS).optional(), node: nodeSettingsSchema })
  .refine((r) => r.release.app === r.app, sameApp);

export type BuildRequest = z.input<typeof buildRequestSchema>;
export type UpgradeEnvironmentRequest = z.input<typeof upgradeEnvironmentRequestSchema>;
export type BuildUpgradeRequest = z.input<typeof buildUpgradeRequestSchema>;
export type DeployUpgradeRequest = z.input<typeof deployUpgradeRequestSchema>;
export type DeployRequest = z.input<typeof deployRequestSchema>;
export type NodeCommandRequest = z.input<typeof nodeCommandRequestSchema>;
export type UpdateRequest = z.input<typeof updateRequestSchema>;
export type NodeCommand = NodeCommandRequest['command'];
export type PruneRequest = z.input<typeof pruneRequestSchema>;
export type HostDeployInput = z.input<typeof hostDeployRequestSchema>;
export type HostUpgradeInput = z.input<typeof hostUpgradeRequestSchema>;

/** One host's answer to a prune: what it kept (always the running version) and what it removed. */
export interface PruneHostResult {
  host: string;
  ok: boolean;
  running?: string;
  kept?: string[];
  removed?: string[];
  error?: string;
}

export interface PruneResult {
  environment: string;
  hosts: PruneHostResult[];
  failed: number;
}

/** Parses a request or throws one InputError naming every bad field (the first 20, and how many more). */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // Each issue is cut short: a hostile key or value must not make a message (and a history event) huge.
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`.slice(0, 300));
  const more = issues.length > 20 ? `; and ${issues.length - 20} more` : '';
  throw new InputError(`invalid ${what} request: ${issues.slice(0, 20).join('; ')}${more}`);
}

/** How a release tarball travels to a host. */
export type TransferMode = 'presigned-url' | 'store-host' | 'worker';

/** One host's progress in a deploy or an upgrade (`check`, `upgrade`, `downgrade` and `skipped` are upgrade steps). */
export interface HostProgress {
  host: string;
  step: 'waiting' | 'check' | 'upload' | 'unpack' | 'configure' | 'start' | 'upgrade' | 'verify' | 'downgrade' | 'done' | 'skipped' | 'failed';
  sent?: boolean;
  /**
   * How the tarball reached the host: `presigned-url` (the host fetched it from S3 itself with curl), `store-host`
   * (streamed from the store host through the worker) or `worker` (streamed from the worker's store or through it).
   */
  via?: TransferMode;
  version?: string;
  /** Upgrades: the node's OS pid before and after (equal when the upgrade was hot). */
  pid?: number;
  /** Upgrades: why this host was restarted onto the new release instead of hot-upgraded (UPGRADE_FALLBACK=restart). */
  fallback?: string;
  error?: string;
}

/** The `status` query of deployRelease and deployUpgrade, and their result. */
export interface DeployStatus {
  phase: 'starting' | 'deploying' | 'done' | 'failed';
  app: string;
  environment: string;
  version: string;
  /** Upgrades: the version every node must run before it is upgraded. */
  fromVersion?: string;
  /** Upgrades: hot, restart or refuse, decided from the upgrade's plan before any node is touched. */
  preflight?: Preflight;
  release?: StoredRelease;
  hosts: Record<string, HostProgress>;
  failed: number;
  /** `--run-migrations`: where they ran and what they printed. */
  migration?: MigrateResult;
}

/** One host's answer to a node command. */
export interface NodeResult {
  host: string;
  ok: boolean;
  running?: boolean;
  version?: string;
  action?: string;
  error?: string;
  /** `cluster`: the node's name and the nodes it is connected to, sorted. */
  node?: string;
  sees?: string[];
  /** `cluster`: nodes of the environment it is not connected to. */
  missing?: string[];
}

export interface NodeCommandResult {
  command: NodeCommand;
  environment: string;
  hosts: NodeResult[];
  failed: number;
}

export interface BuildResult {
  release: StoredRelease;
  /** True when `skipExisting` found the release in the store and nothing was built or copied. */
  skipped?: boolean;
  /** The end of the build output (last 4000 characters) and its whole length. */
  output?: { tail: string; length: number };
}

export type { HostTarget, SshTarget };
