import { selectHosts, environmentOf } from '../core/config/parse';
import type { DeliveryConfig, RolloutSettings } from '../core/config/schema';
import type { SshSettings } from '../core/domain/host';
import { FAILURE_POLICIES, type BatchSize, type RolloutPlan, type StagePlan } from '../core/domain/plan';
import { gitRef, version } from '../core/domain/release';
import type {
  BuildRequest,
  BuildUpgradeRequest,
  DeployRequest,
  DeployUpgradeRequest,
  NodeCommand,
  NodeCommandRequest,
  PruneRequest,
  UpgradeEnvironmentRequest,
} from '../core/domain/requests';
import { InputError } from '../core/domain/errors';
import { LIMITS } from '../core/domain/limits';
import { parseDuration } from '../core/domain/duration';
import type { UpgradeFallback } from '../core/domain/upgrade-plan';
import { INCREMENTS, parseAutoVersion, settableVersion, type Increment, type Versioning } from '../core/domain/versioning';
import { defaultMigrationCommands, fillVersion, migrationVersion, type MigrateRequest, type MigrationDirection, type MigrationStep } from '../core/domain/migrations';

/** Turns the config and flags into workflow input. Pure; everything is validated before any workflow starts. */

export interface RefFlags {
  branch?: string;
  revision?: string;
  tag?: string;
}

/** The project's SSH overrides (SSH_KNOWN_HOSTS, SSH_IDENTITY_FILE, SSH_CONFIG), as workflow input carries them: paths only. */
export const sshOf = (c: DeliveryConfig): SshSettings | undefined =>
  c.ssh.knownHosts || c.ssh.identityFile || c.ssh.configFile
    ? {
        ...(c.ssh.knownHosts ? { knownHostsFile: c.ssh.knownHosts } : {}),
        ...(c.ssh.identityFile ? { identityFile: c.ssh.identityFile } : {}),
        ...(c.ssh.configFile ? { configFile: c.ssh.configFile } : {}),
      }
    : undefined;

/** The git ref a build uses: at most one of --branch, --revision, --tag; default the current HEAD (edeliver: master). */
export function refOf(flags: RefFlags): string {
  const given = (['branch', 'revision', 'tag'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 1) throw new InputError(`give only one of --branch, --revision and --tag (got ${given.map((g) => `--${g}`).join(', ')})`);
  const key = given[0];
  return key ? gitRef(flags[key]!, key) : 'HEAD';
}

/** edeliver's versioning flags of `build release`, `build upgrade` (for --to) and `update`. */
export interface VersionFlags {
  autoVersion?: string;
  incrementVersion?: string;
  setVersion?: string;
}

/** Runs `fn`; an InputError it throws names the flag: `--set-version: invalid version ...`. */
function withFlag<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`${flag}: ${err.message}`);
    throw err;
  }
}

/** The versioning a build asks for: the flags, with AUTO_VERSION from the config unless --auto-version is given. */
export function versioningOf(c: DeliveryConfig, flags: VersionFlags): Versioning | undefined {
  const auto = flags.autoVersion !== undefined ? parseAutoVersion(flags.autoVersion) : c.autoVersion;
  const increment = flags.incrementVersion;
  if (increment !== undefined && !(INCREMENTS as readonly string[]).includes(increment)) {
    throw new InputError(`--increment-version=${increment}: use patch, minor or major`);
  }
  const set = flags.setVersion === undefined ? undefined : withFlag('--set-version', () => settableVersion(flags.setVersion!));
  const v: Versioning = {
    ...(set !== undefined ? { set } : {}),
    ...(increment !== undefined ? { increment: increment as Increment } : {}),
    ...(auto?.length ? { auto } : {}),
  };
  return Object.keys(v).length > 0 ? v : undefined;
}

export function buildRequest(c: DeliveryConfig, flags: RefFlags & VersionFlags & { skipExisting?: boolean }): BuildRequest {
  const versioning = versioningOf(c, flags);
  return {
    app: c.app,
    projectDir: c.projectDir,
    ref: refOf(flags),
    buildHost: c.buildHost,
    buildAt: c.buildAt,
    tool: c.buildTool,
    releaseDir: c.releaseDir,
    store: c.releaseStore,
    ...(flags.skipExisting ? { skipExisting: true } : {}),
    ssh: sshOf(c),
    ...(c.hooks ? { hooks: c.hooks } : {}),
    ...(versioning ? { versioning } : {}),
  };
}

export interface DeployFlags {
  version?: string;
  startDeploy?: boolean;
  host?: string[];
  maxParallel?: number;
}

export function deployRequest(c: DeliveryConfig, env: string, flags: DeployFlags & { version: string }): DeployRequest {
  const e = environmentOf(c, env);
  return {
    app: c.app,
    environment: env,
    version: version(flags.version),
    hosts: selectHosts(e, flags.host),
    store: c.releaseStore,
    startDeploy: flags.startDeploy ?? false,
    maxParallel: flags.maxParallel ?? 10,
    ssh: sshOf(c),
    // The cluster names every node of the environment, also when --host picks some.
    ...(e.node ? { node: e.node } : {}),
    ...(c.hooks ? { hooks: c.hooks } : {}),
  };
}

export function pruneRequest(c: DeliveryConfig, env: string, keep: number, hosts?: string[]): PruneRequest {
  return { app: c.app, environment: env, keep, hosts: selectHosts(environmentOf(c, env), hosts), ssh: sshOf(c) };
}

export function nodeCommandRequest(c: DeliveryConfig, env: string, command: NodeCommand, hosts?: string[]): NodeCommandRequest {
  const e = environmentOf(c, env);
  const selected = selectHosts(e, hosts);
  // Without Ferry's names (the release names its nodes), the workflow expects the names the running nodes report.
  const names = e.hosts.flatMap((h) => (h.nodeName ? [h.nodeName] : []));
  const expectedNodes = command === 'cluster' && names.length === e.hosts.length ? { expectedNodes: names } : {};
  return { app: c.app, environment: env, command, hosts: selected, ...expectedNodes, ssh: sshOf(c) };
}

export interface RolloutFlags {
  version?: string;
  host?: string[];
  canary?: number;
  ramp?: string[];
  batch?: string;
  pause?: number;
  maxFailures?: number;
  approve?: boolean;
  approveBefore?: boolean;
  approvalTimeout?: number;
  startDeploy?: boolean;
  /** Hot-upgrade each host with the stored upgrade to `version` instead of deploying the release. */
  upgrade?: boolean;
  /** With `upgrade`: refuse instead of restarting when a hot upgrade is unsafe. */
  hotOnly?: boolean;
  minHealthy?: string;
  onFailure?: string;
  afterRollback?: string;
  healthCommand?: string;
  healthUrl?: string;
  healthStatus?: number;
  healthRetries?: number;
  healthInterval?: number;
  healthTimeout?: number;
  /** `--bake=15m`: a duration; `--bake-interval=1m`; `--bake-eval=EXPR.` */
  bake?: string;
  bakeInterval?: string;
  bakeEval?: string;
}

const choice = <T extends string>(text: string | undefined, flag: string, choices: readonly T[]): T | undefined => {
  if (text !== undefined && !(choices as readonly string[]).includes(text)) throw new InputError(`${flag}: "${text}" must be one of ${choices.join(', ')}`);
  return text as T | undefined;
};
const positive = (n: number | undefined, flag: string): number | undefined => {
  if (n !== undefined && !(Number.isFinite(n) && n > 0)) throw new InputError(`${flag} must be a number of seconds above 0`);
  return n;
};

const duration = (text: string | undefined, flag: string): number | undefined => {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new InputError(`${flag}: "${text}" must be a duration above zero, e.g. 15m, 2h, 1h30m or 90s`);
  return seconds;
};

/** A stage's bake, from --bake/--bake-interval/--bake-eval over <ENV>_BAKE/_BAKE_INTERVAL/_BAKE_EVAL; none without a duration. */
function bakeOf(flags: RolloutFlags, s: RolloutSettings | undefined): Pick<StagePlan, 'bake'> {
  const seconds = duration(flags.bake, '--bake') ?? s?.bakeSeconds;
  const interval = duration(flags.bakeInterval, '--bake-interval') ?? s?.bakeIntervalSeconds;
  const erlang = flags.bakeEval ?? s?.bakeEval;
  if (seconds === undefined) {
    if (flags.bakeInterval !== undefined || flags.bakeEval !== undefined) throw new InputError('--bake-interval and --bake-eval go with --bake=DURATION (or <ENV>_BAKE)');
    return {};
  }
  if (erlang !== undefined && !/^[^\p{Cc}]+\.$/u.test(erlang)) throw new InputError(`--bake-eval: must be one Erlang expression on one line ending with a dot, e.g. "length(processes()) < 100000."`);
  return { bake: { seconds, ...(interval !== undefined ? { intervalSeconds: interval } : {}), ...(erlang !== undefined ? { erlang } : {}) } };
}

/** A stage's optional health command and HTTP probe, from flags over <ENV>_HEALTH_* settings. */
function healthChecks(flags: RolloutFlags, s: RolloutSettings | undefined): Pick<StagePlan, 'healthCommand' | 'healthHttp'> {
  const timing = {
    retries: count(flags.healthRetries, '--health-retries') ?? s?.healthRetries ?? 3,
    intervalSeconds: positive(flags.healthInterval, '--health-interval') ?? s?.healthInterval ?? 2,
    timeoutSeconds: positive(flags.healthTimeout, '--health-timeout') ?? s?.healthTimeout ?? 10,
  };
  const command = flags.healthCommand !== undefined ? flags.healthCommand.split(/\s+/).filter((w) => w !== '') : s?.healthCommand;
  if (command && command.length === 0) throw new InputError('--health-command: give a command, e.g. --health-command="bin/check --quick"');
  const url = flags.healthUrl ?? s?.healthUrl;
  if (url !== undefined && !/^https?:\/\/\S+$/.test(url)) throw new InputError(`health URL "${url}" must be an http:// or https:// URL, e.g. http://{host}:4000/health`);
  const status = count(flags.healthStatus, '--health-status', 100) ?? s?.healthStatus ?? 200;
  if (status > 599) throw new InputError(`health status ${status} is not an HTTP status`);
  return {
    ...(command ? { healthCommand: { command, ...timing } } : {}),
    ...(url !== undefined ? { healthHttp: { url, expectStatus: status, ...timing } } : {}),
  };
}

const SIZE = /^(?:[1-9][0-9]{0,3}|(?:100|[1-9][0-9]?)%)$/;
const size = (text: string, flag: string): BatchSize => {
  if (!SIZE.test(text) || Number(text) > LIMITS.hosts) throw new InputError(`${flag}: ${JSON.stringify(text)} must be a host count (at most ${LIMITS.hosts}) or a percentage like 25%`);
  return text.endsWith('%') ? (text as `${number}%`) : Number(text);
};
const count = (n: number | undefined, flag: string, min = 0): number | undefined => {
  if (n !== undefined && !(Number.isInteger(n) && n >= min)) throw new InputError(`${flag} must be a whole number of at least ${min}`);
  return n;
};

/**
 * The rollout plan for `ferry rollout <env>...`: one stage per environment, in the order given; flags override the
 * environment's <ENV>_CANARY/_RAMP/_BATCH/... settings. An approval is asked after the canary when there is one, else
 * before the stage. Pure; every value is validated here, before anything starts.
 */
export function rolloutPlan(c: DeliveryConfig, envs: string[], flags: RolloutFlags & { version: string }, startedBy: string): RolloutPlan {
  if (envs.length === 0) throw new InputError('usage: ferry rollout <environment>... --version=V');
  if (flags.hotOnly && !flags.upgrade) throw new InputError('--hot-only goes with --upgrade: a rollout of a release restarts every node anyway');
  const stages = envs.map((name, i): StagePlan => {
    const env = environmentOf(c, name);
    const s = env.rollout;
    const canary = count(flags.canary, '--canary') ?? s?.canary ?? 0;
    const approve = (flags.approve || s?.requireApproval) ?? false;
    const last = i === envs.length - 1;
    const batch = flags.batch !== undefined ? size(flags.batch, '--batch') : s?.batch;
    const onFailure = choice(flags.onFailure, '--on-failure', FAILURE_POLICIES) ?? s?.onFailure;
    const afterRollback = choice(flags.afterRollback, '--after-rollback', ['wait', 'end'] as const) ?? s?.afterRollback;
    const minHealthy = flags.minHealthy !== undefined ? size(flags.minHealthy, '--min-healthy') : s?.minHealthy;
    return {
      environment: env.name,
      // --host narrows the last stage only: the environment the rollout exists to reach.
      hosts: selectHosts(env, last ? flags.host : undefined),
      canary,
      ramp: flags.ramp?.map((r) => size(r, '--ramp')) ?? s?.ramp ?? [],
      ...(batch !== undefined ? { batch } : {}),
      pauseSeconds: count(flags.pause, '--pause') ?? s?.pauseSeconds ?? 0,
      maxFailures: count(flags.maxFailures, '--max-failures') ?? s?.maxFailures ?? 0,
      startDeploy: flags.startDeploy ?? true,
      ...(flags.upgrade ? { action: 'upgrade' as const } : {}),
      ...(minHealthy !== undefined ? { minHealthy } : {}),
      ...(onFailure !== undefined ? { onFailure } : {}),
      ...(afterRollback !== undefined ? { afterRollback } : {}),
      ...healthChecks(flags, s),
      ...bakeOf(flags, s),
      ...(s?.window ? { window: s.window } : {}),
      approveBefore: flags.approveBefore === true || (approve && canary === 0),
      approveAfterCanary: approve && canary > 0,
      ...(env.node ? { node: env.node } : {}),
    };
  });
  const timeout = count(flags.approvalTimeout, '--approval-timeout', 1) ?? envs.map((e) => environmentOf(c, e).rollout?.approvalTimeoutSeconds).find((t) => t !== undefined);
  return {
    app: c.app,
    version: version(flags.version),
    store: c.releaseStore,
    ssh: sshOf(c),
    ...(c.hooks ? { hooks: c.hooks } : {}),
    stages,
    startedBy,
    ...(c.approvers ? { approvers: c.approvers } : {}),
    ...(c.forbidSelfApproval ? { forbidSelfApproval: true } : {}),
    ...(timeout !== undefined ? { approvalTimeoutSeconds: timeout } : {}),
    ...(flags.upgrade ? { upgradeFallback: upgradeFallbackOf(c, flags) } : {}),
  };
}

/** What an unsafe hot upgrade turns into: `refuse` with --hot-only, else UPGRADE_FALLBACK (default restart). */
export const upgradeFallbackOf = (c: DeliveryConfig, flags: { hotOnly?: boolean }): UpgradeFallback => (flags.hotOnly ? 'refuse' : (c.upgradeFallback ?? 'restart'));

export interface UpgradeFlags {
  /** The old release: a git branch, tag or revision. */
  from?: string;
  /** The new release: a git branch, tag or revision (default HEAD). */
  to?: string;
  /** The old release: a version in the store (instead of --from). */
  with?: string;
}

/** `build upgrade --from=<rev> [--to=<rev>] [--with=<version>]`: at least one of --from and --with. */
export function buildUpgradeRequest(c: DeliveryConfig, flags: UpgradeFlags & VersionFlags): BuildUpgradeRequest {
  if (flags.from === undefined && flags.with === undefined) {
    throw new InputError('build upgrade needs --from=<git revision> of the old release, or --with=<version> from the store (see `ferry show releases`)');
  }
  return {
    ...buildRequest(c, { autoVersion: flags.autoVersion, incrementVersion: flags.incrementVersion, setVersion: flags.setVersion }),
    ref: flags.to === undefined ? 'HEAD' : gitRef(flags.to, 'to'),
    ...(flags.from !== undefined ? { from: gitRef(flags.from, 'from') } : {}),
    ...(flags.with !== undefined ? { with: version(flags.with) } : {}),
  };
}

/** `deploy upgrade to <env> [--version=V]`: without a version, the workflow takes the newest upgrade in the store. */
export function deployUpgradeRequest(c: DeliveryConfig, env: string, flags: Omit<DeployFlags, 'startDeploy'> & MigrationFlags & { hotOnly?: boolean }): DeployUpgradeRequest {
  const e = environmentOf(c, env);
  return {
    ...migrationsOf(c, flags),
    app: c.app,
    environment: env,
    ...(flags.version !== undefined ? { version: version(flags.version) } : {}),
    hosts: selectHosts(e, flags.host),
    store: c.releaseStore,
    maxParallel: flags.maxParallel ?? 10,
    ssh: sshOf(c),
    ...(c.hooks ? { hooks: c.hooks } : {}),
    ...(e.node ? { node: e.node } : {}),
    upgradeFallback: upgradeFallbackOf(c, flags),
  };
}

/** `upgrade <env> [--branch=B|--tag=T|--revision=R] [--host=H]`: edeliver's automatic upgrade of an environment. */
export function upgradeEnvironmentRequest(
  c: DeliveryConfig,
  env: string,
  flags: RefFlags & VersionFlags & MigrationFlags & { host?: string[]; maxParallel?: number; hotOnly?: boolean },
): UpgradeEnvironmentRequest {
  const e = environmentOf(c, env);
  return {
    ...migrationsOf(c, flags),
    ...buildRequest(c, flags),
    environment: env,
    hosts: selectHosts(e, flags.host),
    maxParallel: flags.maxParallel ?? 10,
    ...(e.node ? { node: e.node } : {}),
    upgradeFallback: upgradeFallbackOf(c, flags),
  };
}

export interface MigrationFlags {
  /** Run MIGRATE_COMMAND once, before or after the code change (MIGRATE_WHEN). */
  runMigrations?: boolean;
}

/** The app's migration commands: MIGRATE_COMMAND, ... over the defaults (mix only). */
const commandsOf = (c: DeliveryConfig) => ({ ...defaultMigrationCommands(c.app, c.buildTool), ...c.migrations });

/** relx's eval wants a complete Erlang form: the final dot is added when the expression has none. */
const forTool = (c: DeliveryConfig, expression: string): string => (c.buildTool === 'rebar3' && !/\.\s*$/.test(expression) ? `${expression}.` : expression);

const NOT_SET: Record<MigrationDirection, string> = {
  up: "MIGRATE_COMMAND is not set: add the Erlang expression that runs your migrations, e.g. MIGRATE_COMMAND='my_app_release:migrate().'",
  down: "MIGRATE_DOWN_COMMAND is not set: add the expression that rolls back to a version, e.g. MIGRATE_DOWN_COMMAND='my_app_release:rollback({version}).'",
  status: "MIGRATIONS_STATUS_COMMAND is not set: add the expression that prints what is applied, e.g. MIGRATIONS_STATUS_COMMAND='my_app_release:status().'",
};
const VARIABLE: Record<MigrationDirection, string> = { up: 'MIGRATE_COMMAND', down: 'MIGRATE_DOWN_COMMAND', status: 'MIGRATIONS_STATUS_COMMAND' };

/** The expression for one direction, `{version}` filled with a validated number; InputError when it is not configured. */
function migrationExpression(c: DeliveryConfig, direction: MigrationDirection, version?: string): string {
  const template = commandsOf(c)[direction];
  if (template === undefined) throw new InputError(`${c.source}: ${NOT_SET[direction]}`);
  return forTool(c, fillVersion(template, version, `${c.source}: ${VARIABLE[direction]}`));
}

/** `migrations` of an update or upgrade request with `--run-migrations`; nothing without it. */
export function migrationsOf(c: DeliveryConfig, flags: MigrationFlags): { migrations?: MigrationStep } {
  if (!flags.runMigrations) return {};
  return { migrations: { when: commandsOf(c).when ?? 'after', expression: migrationExpression(c, 'up') } };
}

/** `migrate <env> [up|down] [--version=N] [--host=H]` and `show migrations <env>` (direction `status`). */
export function migrateRequest(c: DeliveryConfig, env: string, direction: MigrationDirection, flags: { version?: string; host?: string[] }): MigrateRequest {
  if (direction === 'status' && flags.version !== undefined) throw new InputError('--version is for `ferry migrate <env> up|down`');
  if (direction === 'down' && flags.version === undefined) {
    throw new InputError('migrate down needs --version=N: the migration version to go back to (0 reverts all); see `ferry show migrations <env>`');
  }
  const v = flags.version === undefined ? undefined : migrationVersion(flags.version);
  return {
    app: c.app,
    environment: env,
    hosts: selectHosts(environmentOf(c, env), flags.host),
    direction,
    expression: migrationExpression(c, direction, v),
    ssh: sshOf(c),
  };
}
