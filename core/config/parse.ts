import { InputError } from '../domain/errors';
import type { ClusterSettings, HostTarget, NodeSettings, SshTarget } from '../domain/host';
import { absolutePath, nodeName, parseJump, parseSshTarget, type SshHop } from '../domain/host';
import { defaultMigrationCommands, VERSION_PLACEHOLDER, type MigrationCommands } from '../domain/migrations';
import { appName } from '../domain/release';
import { FAILURE_POLICIES, type BatchSize } from '../domain/plan';
import { describeStore, parseStore, type StoreDescriptor } from '../domain/store';
import { UPGRADE_FALLBACKS, type UpgradeFallback } from '../domain/upgrade-plan';
import { parseAutoVersion } from '../domain/versioning';
import { parseDuration } from '../domain/duration';
import { parseWindow, type DeployWindow } from '../domain/window';
import type { BuildTool, DeliveryConfig, EnvironmentConfig, RolloutSettings } from './schema';

/** A typed config, or every problem found, each naming the file, the variable and the fix. */
export type ParseResult = { ok: true; config: DeliveryConfig; warnings: string[] } | { ok: false; errors: string[] };

/** What the loader knows besides the variables. */
export interface ParseContext {
  /** The config file, as messages name it, e.g. `.deliver/config`. */
  source: string;
  /** The directory that holds `.deliver/`; a relative RELEASE_STORE directory is resolved against it. */
  projectDir: string;
  /** From the files in projectDir: mix.exs -> mix, rebar.config -> rebar3. */
  detectedTool?: BuildTool;
}

const ENV_LIST = /^([A-Z][A-Z0-9_]*)_(?:HOSTS|NODES)$/;
/** Variables that end in _HOSTS but name no environment. */
const NOT_ENVIRONMENTS = new Set(['SSH_KNOWN_HOSTS', 'AUTHORIZED_REMOTE_HOSTS']);
const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDERS = ['app', 'host', 'port', 'index'];
const uniqueNameFix = (env: string) =>
  `make it unique per host, e.g. NODE_NAME="{app}_{port}@{host}" or "{app}{index}@{host}"; hosts that share one address ` +
  `behind different SSH ports (port-forwarded machines) need {port} or {index}, or one name each in ${env}_NODE_NAMES; ` +
  "or unset NODE_NAME and the nodes keep the names their release's vm.args gives";

/**
 * Pure: turns the variables a sourced `.deliver/config` defines into a DeliveryConfig, or returns every problem at
 * once. Unknown variables are ignored, since the file is a bash script that defines many.
 */
export function parseDeliveryConfig(vars: Record<string, string>, ctx: ParseContext): ParseResult {
  const r = reader(vars, ctx.source);
  const appText = r.get('APP');
  const app =
    appText === undefined ? r.missing('APP', 'APP="my_app" (the OTP application name)') : r.check(() => appName(appText), r.at('APP'));
  const buildTool = readBuildTool(r, ctx);
  const sshDefaults = readSshDefaults(r);
  const buildHost = readBuildHost(r, sshDefaults);
  const buildAt = r.path('BUILD_AT');
  if (buildAt === undefined) {
    r.missing('BUILD_AT', `BUILD_AT="/tmp/edeliver/${app ?? 'my_app'}/builds" (the directory on the build host where releases are built)`);
  }
  const releaseDir = r.path('RELEASE_DIR');
  const warnings: string[] = [];
  const releaseStore = readReleaseStore(r, ctx, warnings);
  const knownHosts = r.path('SSH_KNOWN_HOSTS');
  const identityFile = r.path('SSH_IDENTITY_FILE');
  const sshConfig = r.get('SSH_CONFIG') === 'none' ? 'none' : r.path('SSH_CONFIG');
  const naming = readNodeNaming(r, app);
  const environments: Record<string, EnvironmentConfig> = {};
  for (const env of environmentVariables(r)) {
    const rollout = readRollout(r, env);
    // Node-name problems are kept with the environment: only a command that reaches its nodes reports them.
    const nodeNameErrors: string[] = [];
    const base = readEnvironment(r, env, naming, sshDefaults, nodeNameErrors);
    const node = readNodeSettings(r, env, base.hosts, nodeNameErrors);
    environments[env.toLowerCase()] = {
      ...base,
      ...(rollout ? { rollout } : {}),
      ...(node ? { node } : {}),
      ...(nodeNameErrors.length > 0 ? { nodeNameErrors } : {}),
    };
  }
  const approvers = words(r.get('APPROVERS'));
  const forbidSelfApproval = readFlag(r, 'FORBID_SELF_APPROVAL');
  const autoVersionText = r.get('AUTO_VERSION');
  const autoVersion = autoVersionText === undefined ? undefined : r.check(() => parseAutoVersion(autoVersionText, r.at('AUTO_VERSION')));
  const migrations = readMigrations(r, app, buildTool);
  const upgradeFallback = r.get('UPGRADE_FALLBACK');
  if (upgradeFallback !== undefined && !(UPGRADE_FALLBACKS as readonly string[]).includes(upgradeFallback)) {
    r.errors.push(`${r.at('UPGRADE_FALLBACK')}: "${upgradeFallback}" is not supported: set UPGRADE_FALLBACK="restart" (a rolling restart when a hot upgrade is unsafe) or UPGRADE_FALLBACK="refuse"`);
  }

  if (r.errors.length > 0 || !app || !buildTool || !buildHost || !buildAt || releaseStore === undefined) {
    return { ok: false, errors: r.errors };
  }
  return {
    ok: true,
    warnings,
    config: {
      app,
      source: ctx.source,
      projectDir: ctx.projectDir,
      buildTool,
      buildHost,
      buildAt,
      releaseStore,
      ...(releaseDir ? { releaseDir } : {}),
      environments,
      ssh: { ...(knownHosts ? { knownHosts } : {}), ...(identityFile ? { identityFile } : {}), ...(sshConfig ? { configFile: sshConfig } : {}) },
      ...(approvers.length > 0 ? { approvers } : {}),
      ...(forbidSelfApproval !== undefined ? { forbidSelfApproval } : {}),
      ...(autoVersion ? { autoVersion } : {}),
      // Only when there is something to say: a rebar3 config without migration variables has none.
      ...(migrations.up || migrations.down || migrations.status || migrations.when === 'before' ? { migrations } : {}),
      ...(upgradeFallback !== undefined ? { upgradeFallback: upgradeFallback as UpgradeFallback } : {}),
    },
  };
}

/** The environment named `name`; throws InputError listing the ones the config defines. */
export function environmentOf(config: DeliveryConfig, name: string): EnvironmentConfig {
  // hasOwn, so that names like "constructor" are unknown rather than found on Object.prototype.
  if (Object.hasOwn(config.environments, name)) return config.environments[name]!;
  const defined = Object.keys(config.environments);
  const hint = /^[a-z][a-z0-9_]*$/.test(name) ? ` (set ${name.toUpperCase()}_HOSTS to add one)` : '';
  throw new InputError(
    `unknown environment "${name}": ${config.source} defines ${defined.length > 0 ? defined.join(', ') : 'no environments'}${hint}`,
  );
}

/**
 * The hosts a command reaches, in the environment's order: those a `--host=H` filter picks, or every host. A name
 * matches a host's `address:port` name, its address (every port) or its node name. Throws InputError naming the unknown
 * ones and the valid ones, or with the environment's node-name problems (every command that reaches nodes comes here).
 */
export function selectHosts(env: EnvironmentConfig, names: string[] | undefined): HostTarget[] {
  if (env.nodeNameErrors) throw new InputError(env.nodeNameErrors.join('\n'));
  if (names === undefined || names.length === 0) return env.hosts;
  const matches = (h: HostTarget, n: string) => n === h.name || n === h.address || n === h.nodeName;
  const unknown = names.filter((n) => !env.hosts.some((h) => matches(h, n)));
  if (unknown.length > 0) {
    const valid = env.hosts.map((h) => (h.nodeName ? `${h.name} (${h.nodeName})` : h.name)).join(', ');
    throw new InputError(`unknown host ${unknown.map((n) => `"${n}"`).join(', ')} in ${env.name}: use one of ${valid}`);
  }
  return env.hosts.filter((h) => names.some((n) => matches(h, n)));
}

/** Reads variables and collects problems; every helper below reports through it. */
interface Reader {
  errors: string[];
  vars: Record<string, string>;
  /** `<source>: NAME`, the start of every message about NAME. */
  at(name: string): string;
  /** The trimmed value; empty counts as unset, as edeliver tests variables with `[ -z "$X" ]`. */
  get(name: string): string | undefined;
  /** Runs a validator; its InputError becomes one collected message, prefixed when the validator takes no `what`. */
  check<T>(run: () => T, prefix?: string): T | undefined;
  missing(name: string, fix: string): undefined;
  /** An absolute path, validated once however many environments use it: undefined = unset, null = already reported. */
  path(name: string): string | null | undefined;
  /** A user name variable; when invalid it is reported once and a stand-in keeps host entries from repeating it. */
  user(name: string): string | undefined;
}

function reader(vars: Record<string, string>, source: string): Reader {
  const paths = new Map<string, string | null | undefined>();
  const r: Reader = {
    errors: [],
    vars,
    at: (name) => `${source}: ${name}`,
    get(name) {
      const text = Object.hasOwn(vars, name) ? vars[name]!.trim() : '';
      return text === '' ? undefined : text;
    },
    check(run, prefix) {
      try {
        return run();
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        r.errors.push(prefix === undefined ? err.message : `${prefix}: ${err.message}`);
        return undefined;
      }
    },
    missing(name, fix) {
      r.errors.push(`${source}: ${name} is not set: add ${fix}`);
      return undefined;
    },
    path(name) {
      if (!paths.has(name)) {
        const text = r.get(name);
        paths.set(name, text === undefined ? undefined : (r.check(() => absolutePath(text, r.at(name))) ?? null));
      }
      return paths.get(name);
    },
    user(name) {
      const text = r.get(name);
      if (text === undefined) return undefined;
      return r.check(() => sshTarget('localhost', text, r.at(name)).user) ?? 'reported';
    },
  };
  return r;
}

function readBuildTool(r: Reader, ctx: ParseContext): BuildTool | undefined {
  const text = r.get('BUILD_TOOL');
  if (text === 'rebar3' || text === 'mix') return text;
  if (text !== undefined) {
    r.errors.push(`${r.at('BUILD_TOOL')}: "${text}" is not supported: set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"`);
  } else if (ctx.detectedTool) {
    return ctx.detectedTool;
  } else {
    r.errors.push(
      `${ctx.source}: BUILD_TOOL is not set and ${ctx.projectDir} has no rebar.config or mix.exs: ` +
        'add one of them, or set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"',
    );
  }
  return undefined;
}

/** SSH_JUMP and SSH_CONNECT_TIMEOUT: the defaults of every host; read once, so a bad value is reported once. */
interface SshDefaults {
  jump?: SshHop[];
  connectTimeout?: number;
}

function readSshDefaults(r: Reader): SshDefaults {
  const text = r.get('SSH_JUMP');
  const jump = text === undefined ? undefined : r.check(() => parseJump(text, r.at('SSH_JUMP')));
  return { ...(jump ? { jump } : {}), ...optional('connectTimeout', readCount(r, 'SSH_CONNECT_TIMEOUT', 1)) };
}

/** The SSH options of one group of hosts (the build host, or one environment). */
interface SshOptions {
  jump?: SshHop[];
  identityFile?: string;
  connectTimeout?: number;
  port?: number;
}

/**
 * <PREFIX>_SSH_JUMP, _SSH_IDENTITY_FILE, _SSH_CONNECT_TIMEOUT and _SSH_PORT (PREFIX: BUILD or an environment), read
 * once per group; SSH_JUMP and SSH_CONNECT_TIMEOUT fill what the group does not set.
 */
function readSshOptions(r: Reader, prefix: string, defaults: SshDefaults): SshOptions {
  const jumpVar = `${prefix}_SSH_JUMP`;
  const jumpText = r.get(jumpVar);
  const jump = jumpText === undefined ? defaults.jump : r.check(() => parseJump(jumpText, r.at(jumpVar)));
  const identityFile = r.path(`${prefix}_SSH_IDENTITY_FILE`) ?? undefined;
  const connectTimeout = readCount(r, `${prefix}_SSH_CONNECT_TIMEOUT`, 1) ?? defaults.connectTimeout;
  let port = readCount(r, `${prefix}_SSH_PORT`, 1);
  if (port !== undefined && port > 65535) {
    r.errors.push(`${r.at(`${prefix}_SSH_PORT`)}: "${port}" is not a port (1-65535)`);
    port = undefined;
  }
  return { jump, identityFile, connectTimeout, port };
}

/** One host with its group's SSH options; the group's port fills only an entry that names none. */
function withSshOptions(target: SshTarget, o: SshOptions): SshTarget {
  let t: SshTarget = target;
  if (o.port !== undefined && t.portUnset) {
    t = { ...t, port: o.port, name: o.port === 22 ? t.address : `${t.address}:${o.port}` };
    delete t.portUnset;
  }
  return {
    ...t,
    // `none` stays as []: it also overrides a ProxyJump of the SSH config.
    ...(o.jump ? { jump: o.jump } : {}),
    ...optional('identityFile', o.identityFile),
    ...optional('connectTimeout', o.connectTimeout),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };

function readBuildHost(r: Reader, defaults: SshDefaults): SshTarget | undefined {
  const user = r.user('BUILD_USER');
  const text = r.get('BUILD_HOST');
  if (text === undefined) return r.missing('BUILD_HOST', 'BUILD_HOST="build.example.com" (the host that builds releases)');
  if (user === undefined && !text.includes('@')) {
    r.errors.push(`${r.at('BUILD_HOST')}: no user for "${text}": add BUILD_USER="builder" or write BUILD_HOST="builder@${text}"`);
    return undefined;
  }
  const options = readSshOptions(r, 'BUILD', defaults);
  const target = r.check(() => sshTarget(text, user, r.at('BUILD_HOST')));
  return target && withSshOptions(target, options);
}

/**
 * RELEASE_STORE (and RELEASE_STORE_ENDPOINT for an S3-compatible server) as a store descriptor. Keys in edeliver's
 * `s3://KEY@SECRET:bucket` form are dropped here and only a warning says so: they never reach a workflow.
 */
function readReleaseStore(r: Reader, ctx: ParseContext, warnings: string[]): StoreDescriptor | undefined {
  const text = r.get('RELEASE_STORE') ?? '.deliver/releases';
  const endpoint = r.get('RELEASE_STORE_ENDPOINT');
  const parsed = r.check(() => parseStore(text, ctx.projectDir, r.at('RELEASE_STORE'), endpoint));
  if (!parsed) return undefined;
  if (endpoint !== undefined && parsed.store.kind !== 's3') {
    r.errors.push(`${r.at('RELEASE_STORE_ENDPOINT')}: only an s3:// RELEASE_STORE uses an endpoint: remove it or set RELEASE_STORE="s3://bucket/prefix"`);
  }
  if (parsed.strippedCredentials) {
    warnings.push(
      `${r.at('RELEASE_STORE')} holds AWS keys (edeliver's s3://KEY@SECRET:bucket form); Ferry ignores them and never sends them anywhere: ` +
        `write RELEASE_STORE="${describeStore(parsed.store)}" and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker's environment`,
    );
  }
  return parsed.store;
}

/** How node names are made: NODE_NAME's template, or none (`release`: each node keeps its release's name). */
type NodeNaming = { template: string; app: string } | 'release';

/** NODE_NAME, checked for unknown placeholders; undefined when node names cannot be made (the reason is reported). */
function readNodeNaming(r: Reader, app: string | undefined): NodeNaming | undefined {
  const template = r.get('NODE_NAME');
  if (template === undefined) return 'release';
  const unknown = new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((p) => !PLACEHOLDERS.includes(p)));
  for (const p of unknown) r.errors.push(`${r.at('NODE_NAME')}: unknown placeholder "{${p}}": use {app}, {host}, {port} or {index}`);
  return unknown.size === 0 && app !== undefined ? { template, app } : undefined;
}

/** The <ENV> of every <ENV>_HOSTS or <ENV>_NODES that is set: staging and production first, then the rest by name. */
function environmentVariables(r: Reader): string[] {
  const found = new Set<string>();
  for (const key of Object.keys(r.vars)) {
    const m = ENV_LIST.exec(key);
    if (m && !NOT_ENVIRONMENTS.has(key) && r.get(key) !== undefined) found.add(m[1]!);
  }
  const first = ['STAGING', 'PRODUCTION'].filter((e) => found.has(e));
  return [...first, ...[...found].filter((e) => !first.includes(e)).sort()];
}

interface HostEntry {
  from: string;
  target: SshTarget;
  deployTo: string;
}

/** One environment from <ENV>_HOSTS, <ENV>_NODES, <ENV>_USER and its deploy root; node-name problems go to `nameErrors`. */
function readEnvironment(r: Reader, env: string, naming: NodeNaming | undefined, defaults: SshDefaults, nameErrors: string[]): EnvironmentConfig {
  const name = env.toLowerCase();
  const ssh = readSshOptions(r, env, defaults);
  const user = r.user(`${env}_USER`);
  // The first deploy root that is set wins; TEST_AT is edeliver's name for the staging one.
  const rootVars = [`${env}_DELIVER_TO`, ...(env === 'STAGING' ? ['TEST_AT'] : []), 'DELIVER_TO'];
  const root = rootVars.map((v) => r.path(v)).find((p) => p !== undefined);
  const entries: HostEntry[] = [];

  const hostsVar = `${env}_HOSTS`;
  const hostTexts = words(r.get(hostsVar));
  if (hostTexts.length > 0 && root === undefined) {
    r.errors.push(`${r.at(hostsVar)}: no deploy directory for ${name}: set DELIVER_TO="/opt/apps" (or ${rootVars.slice(0, -1).join(' or ')})`);
  }
  for (const text of hostTexts) {
    const target = entryTarget(r, hostsVar, text, text, user, ssh);
    // Without a valid root (reported above or by r.path) the entry still takes part in the duplicate checks.
    if (target) entries.push({ from: hostsVar, target, deployTo: root ?? '' });
  }

  const nodesVar = `${env}_NODES`;
  for (const text of words(r.get(nodesVar))) {
    const m = /^(.+?):(\/.*)$/.exec(text);
    if (!m) {
      r.errors.push(`${r.at(nodesVar)}: "${text}" has no deploy directory: write user@host[:port]:/deploy/path`);
      continue;
    }
    const target = entryTarget(r, nodesVar, text, m[1]!, user, ssh);
    const deployTo = r.check(() => absolutePath(m[2]!, r.at(nodesVar)));
    if (target && deployTo !== undefined) entries.push({ from: nodesVar, target, deployTo });
  }
  return { name, hosts: placeHosts(r, name, entries, naming, nameErrors, readNodeNames(r, env, entries.length, nameErrors)) };
}

/** <ENV>_NODE_NAMES: one node name per host, in the order of <ENV>_HOSTS then <ENV>_NODES; it overrides NODE_NAME. */
function readNodeNames(r: Reader, env: string, hosts: number, nameErrors: string[]): string[] | undefined {
  const name = `${env}_NODE_NAMES`;
  const names = words(r.get(name));
  if (names.length === 0) return undefined;
  if (names.length !== hosts) {
    nameErrors.push(`${r.at(name)}: gives ${names.length} node names for ${hosts} hosts: give one name@host per host, in the order of ${env}_HOSTS then ${env}_NODES`);
  }
  return names;
}

const CLUSTER_MODES: Record<string, ClusterSettings['mode'] | false> = { true: 'optional', yes: 'optional', optional: 'optional', mandatory: 'mandatory', false: false, no: false };

/**
 * LINK_VM_ARGS, LINK_SYS_CONFIG and COOKIE_FILE (each also per environment: <ENV>_LINK_VM_ARGS, ...), <ENV>_CLUSTER and
 * <ENV>_CLUSTER_TIMEOUT; undefined when none is set. A cluster without Ferry's node names goes to `nameErrors`.
 */
function readNodeSettings(r: Reader, env: string, hosts: HostTarget[], nameErrors: string[]): NodeSettings | undefined {
  const either = (name: string) => {
    const own = r.path(`${env}_${name}`);
    return own === undefined ? r.path(name) : own;
  };
  const linkVmArgs = either('LINK_VM_ARGS');
  const linkSysConfig = either('LINK_SYS_CONFIG');
  const cookieFile = either('COOKIE_FILE');
  const clusterVar = `${env}_CLUSTER`;
  const modeText = r.get(clusterVar)?.toLowerCase();
  const mode = modeText === undefined ? false : CLUSTER_MODES[modeText];
  if (mode === undefined) r.errors.push(`${r.at(clusterVar)}: "${modeText}" is not a cluster mode: set ${clusterVar}=true (sync_nodes_optional) or ${clusterVar}=mandatory (sync_nodes_mandatory)`);
  const timeoutMs = readCount(r, `${clusterVar}_TIMEOUT`, 1) ?? 30000;
  const failoverMs = readCount(r, `${clusterVar}_DISTRIBUTED`, 0);
  if (failoverMs !== undefined && !mode) r.errors.push(`${r.at(`${clusterVar}_DISTRIBUTED`)}: needs ${clusterVar}=true or ${clusterVar}=mandatory`);
  const nodes = hosts.flatMap((h) => (h.nodeName ? [h.nodeName] : []));
  // Each node gets the others' names before it starts; a release's own names are known only once the nodes run.
  // (Some names but not all: those were invalid, and nameErrors says so already.)
  if (mode && nodes.length === 0 && hosts.length > 0) {
    nameErrors.push(
      `${r.at(clusterVar)}: a cluster needs Ferry to know every node's name before the nodes start: set NODE_NAME ` +
        `(e.g. NODE_NAME="{app}@{host}") or ${env}_NODE_NAMES (one name@host per host)`,
    );
  }
  const settings: NodeSettings = {
    ...(linkVmArgs ? { linkVmArgs } : {}),
    ...(linkSysConfig ? { linkSysConfig } : {}),
    ...(cookieFile ? { cookieFile } : {}),
    ...(mode && nodes.length === hosts.length
      ? { cluster: { mode, nodes, timeoutMs, ...(failoverMs !== undefined ? { distributed: { failoverMs } } : {}) } }
      : {}),
  };
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/** The SSH target of one list entry; a missing user asks for <ENV>_USER. */
function entryTarget(r: Reader, from: string, entry: string, hostText: string, user: string | undefined, ssh: SshOptions): SshTarget | undefined {
  if (user === undefined && !hostText.includes('@')) {
    const env = from.replace(/_(HOSTS|NODES)$/, '');
    r.errors.push(`${r.at(from)}: no user for "${entry}": add ${env}_USER="deploy" or write "deploy@${entry}"`);
    return undefined;
  }
  const target = r.check(() => sshTarget(hostText, user, r.at(from)));
  return target && withSshOptions(target, ssh);
}

/**
 * Drops duplicate hosts and gives each host Ferry's node name, from <ENV>_NODE_NAMES or NODE_NAME, when there is one:
 * valid and unique in the environment, else the problem goes to `nameErrors`. Without either, hosts get no node name.
 */
function placeHosts(r: Reader, env: string, entries: HostEntry[], naming: NodeNaming | undefined, nameErrors: string[], names?: string[]): HostTarget[] {
  const hosts: HostTarget[] = [];
  const byNode = new Map<string, HostTarget>();
  const nameVar = names ? `${env.toUpperCase()}_NODE_NAMES` : 'NODE_NAME';
  for (const { from, target, deployTo } of entries) {
    if (hosts.some((h) => h.name === target.name)) {
      r.errors.push(`${r.at(from)}: host "${target.name}" is listed twice for ${env}: remove one of them`);
      continue;
    }
    const fill: Record<string, string> = { host: target.address, port: String(target.port), index: String(hosts.length + 1) };
    const template = naming === 'release' ? undefined : naming;
    const node = names?.[hosts.length] ?? template?.template.replace(PLACEHOLDER, (_, p: string) => (p === 'app' ? template.app : (fill[p] ?? '')));
    const problem = node === undefined ? undefined : nodeNameProblem(node, `${r.at(nameVar)} (${env} host ${target.name})`);
    if (problem) nameErrors.push(problem);
    // An invalid name is not kept: the environment's nodeNameErrors stop every command that would use it.
    const host: HostTarget = { ...target, deployTo, ...(node !== undefined && !problem ? { nodeName: node } : {}) };
    hosts.push(host);
    if (node === undefined || problem) continue;
    const other = byNode.get(node);
    if (other) nameErrors.push(`${r.at(nameVar)}: ${env} hosts ${other.name} and ${target.name} both get node name "${node}": ${uniqueNameFix(env.toUpperCase())}`);
    else byNode.set(node, host);
  }
  return hosts;
}

/** Why `node` is not a valid node name (nodeName's message), or undefined. */
function nodeNameProblem(node: string, what: string): string | undefined {
  try {
    nodeName(node, what);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** parseSshTarget, with a message that names the port when it is not a number (its pattern would not match at all). */
function sshTarget(text: string, defaultUser: string | undefined, what: string): SshTarget {
  const port = /^(?:[^@]*@)?(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(text)?.[1];
  if (port !== undefined && !/^\d+$/.test(port)) throw new InputError(`${what}: invalid port "${port}" in "${text}"`);
  return parseSshTarget(text, defaultUser, what);
}

const BATCH_SIZE = /^(?:[1-9][0-9]*|(?:100|[1-9][0-9]?)%)$/;

/** true/false (also yes/no, 1/0); anything else is reported. */
function readFlag(r: Reader, name: string): boolean | undefined {
  const text = r.get(name)?.toLowerCase();
  if (text === undefined) return undefined;
  if (['true', 'yes', '1'].includes(text)) return true;
  if (['false', 'no', '0'].includes(text)) return false;
  r.errors.push(`${r.at(name)}: "${text}" is not a yes/no value: set ${name}=true or ${name}=false`);
  return undefined;
}

/** A whole number of at least `min`; anything else is reported. */
function readCount(r: Reader, name: string, min: number): number | undefined {
  const text = r.get(name);
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text) && Number(text) >= min) return Number(text);
  r.errors.push(`${r.at(name)}: "${text}" must be a whole number of at least ${min}`);
  return undefined;
}

/** A deploy window, `Mon-Fri 09:00-17:00 Europe/Berlin`; anything else is reported with what is wrong. */
function readWindow(r: Reader, name: string): DeployWindow | undefined {
  const text = r.get(name);
  if (text === undefined) return undefined;
  const w = parseWindow(text);
  if (typeof w === 'string') r.errors.push(`${r.at(name)}: ${w}`);
  return typeof w === 'string' ? undefined : w;
}

/** One Erlang expression on one line, with its trailing dot (what `bin/<app> eval` takes). */
const ERLANG_EXPRESSION = /^[^\p{Cc}]+\.$/u;

/** A duration (`15m`, `2h`, `1h30m`, `90s`, `90`) in seconds; anything else is reported. */
function readDuration(r: Reader, name: string): number | undefined {
  const text = r.get(name);
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) r.errors.push(`${r.at(name)}: "${text}" must be a duration above zero, e.g. 15m, 2h, 1h30m or 90s`);
  return seconds;
}

function readSizes(r: Reader, name: string): BatchSize[] | undefined {
  const sizes = words(r.get(name));
  const bad = sizes.filter((s) => !BATCH_SIZE.test(s));
  if (bad.length > 0) r.errors.push(`${r.at(name)}: ${bad.map((b) => `"${b}"`).join(', ')} must be a host count or a percentage like 25%`);
  if (sizes.length === 0 || bad.length > 0) return undefined;
  return sizes.map((s) => (s.endsWith('%') ? (s as `${number}%`) : Number(s)));
}

/** One of `choices`; anything else is reported. */
function readChoice<T extends string>(r: Reader, name: string, choices: readonly T[]): T | undefined {
  const text = r.get(name);
  if (text === undefined) return undefined;
  if ((choices as readonly string[]).includes(text)) return text as T;
  r.errors.push(`${r.at(name)}: "${text}" must be one of ${choices.join(', ')}`);
  return undefined;
}

/**
 * <ENV>_REQUIRE_APPROVAL, _CANARY, _RAMP, _BATCH, _PAUSE, _MAX_FAILURES, _MIN_HEALTHY, _APPROVAL_TIMEOUT, _ON_FAILURE,
 * _AFTER_ROLLBACK, _HEALTH_COMMAND/_URL/_STATUS/_RETRIES/_INTERVAL/_TIMEOUT, _BAKE/_BAKE_INTERVAL/_BAKE_EVAL,
 * _DEPLOY_WINDOW; undefined when none is set.
 */
function readRollout(r: Reader, env: string): RolloutSettings | undefined {
  const batch = readSizes(r, `${env}_BATCH`);
  if (batch && batch.length > 1) r.errors.push(`${r.at(`${env}_BATCH`)}: give one size; use ${env}_RAMP for several`);
  const minHealthy = readSizes(r, `${env}_MIN_HEALTHY`);
  if (minHealthy && minHealthy.length > 1) r.errors.push(`${r.at(`${env}_MIN_HEALTHY`)}: give one size`);
  const settings = {
    canary: readCount(r, `${env}_CANARY`, 0),
    ramp: readSizes(r, `${env}_RAMP`),
    batch: batch?.[0],
    pauseSeconds: readCount(r, `${env}_PAUSE`, 0),
    maxFailures: readCount(r, `${env}_MAX_FAILURES`, 0),
    approvalTimeoutSeconds: readCount(r, `${env}_APPROVAL_TIMEOUT`, 1),
    minHealthy: minHealthy?.[0],
    onFailure: readChoice(r, `${env}_ON_FAILURE`, FAILURE_POLICIES),
    afterRollback: readChoice(r, `${env}_AFTER_ROLLBACK`, ['wait', 'end'] as const),
    healthCommand: words(r.get(`${env}_HEALTH_COMMAND`)).length > 0 ? words(r.get(`${env}_HEALTH_COMMAND`)) : undefined,
    healthUrl: r.get(`${env}_HEALTH_URL`),
    healthStatus: readCount(r, `${env}_HEALTH_STATUS`, 100),
    healthRetries: readCount(r, `${env}_HEALTH_RETRIES`, 0),
    healthInterval: readCount(r, `${env}_HEALTH_INTERVAL`, 1),
    healthTimeout: readCount(r, `${env}_HEALTH_TIMEOUT`, 1),
    bakeSeconds: readDuration(r, `${env}_BAKE`),
    bakeIntervalSeconds: readDuration(r, `${env}_BAKE_INTERVAL`),
    bakeEval: r.get(`${env}_BAKE_EVAL`),
    window: readWindow(r, `${env}_DEPLOY_WINDOW`),
  };
  if (settings.bakeEval !== undefined && !ERLANG_EXPRESSION.test(settings.bakeEval)) {
    r.errors.push(`${r.at(`${env}_BAKE_EVAL`)}: must be one Erlang expression on one line ending with a dot, e.g. ${env}_BAKE_EVAL="length(processes()) < 100000."`);
  }
  const requireApproval = readFlag(r, `${env}_REQUIRE_APPROVAL`);
  const set = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  if (requireApproval === undefined && Object.keys(set).length === 0) return undefined;
  return { requireApproval: requireApproval ?? false, ...set };
}

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((w) => w !== '');

/** MIGRATE_COMMAND, MIGRATE_DOWN_COMMAND, MIGRATIONS_STATUS_COMMAND and MIGRATE_WHEN, over mix's defaults. */
function readMigrations(r: Reader, app: string | undefined, tool: BuildTool | undefined): MigrationCommands {
  const defaults = app && tool ? defaultMigrationCommands(app, tool) : {};
  const up = r.get('MIGRATE_COMMAND') ?? defaults.up;
  const down = r.get('MIGRATE_DOWN_COMMAND') ?? defaults.down;
  const status = r.get('MIGRATIONS_STATUS_COMMAND') ?? defaults.status;
  if (r.get('MIGRATE_DOWN_COMMAND') !== undefined && !down!.includes(VERSION_PLACEHOLDER)) {
    r.errors.push(`${r.at('MIGRATE_DOWN_COMMAND')}: has no ${VERSION_PLACEHOLDER} placeholder: write where the target version goes, e.g. MIGRATE_DOWN_COMMAND='my_app_release:rollback(${VERSION_PLACEHOLDER}).'`);
  }
  const whenText = r.get('MIGRATE_WHEN') ?? 'after';
  if (whenText !== 'before' && whenText !== 'after') r.errors.push(`${r.at('MIGRATE_WHEN')}: "${whenText}" is not supported: set MIGRATE_WHEN="before" or MIGRATE_WHEN="after"`);
  return { ...(up ? { up } : {}), ...(down ? { down } : {}), ...(status ? { status } : {}), when: whenText === 'before' ? 'before' : 'after' };
}
