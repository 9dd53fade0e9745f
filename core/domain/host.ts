import { InputError, shown } from './errors';
import { LIMITS } from './limits';
import type { Version } from './release';

/** One machine Ferry logs in to. Plain JSON: it crosses the workflow boundary. */
export interface SshTarget {
  /** How Ferry names the host in output: `address` or `address:port`. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** The config wrote no port: `Port` of ~/.ssh/config on the worker may replace the default 22. */
  portUnset?: true;
  /** ProxyJump: the hosts to go through, first hop first (<ENV>_SSH_JUMP, BUILD_SSH_JUMP, SSH_JUMP); [] = none. */
  jump?: SshHop[];
  /** <ENV>_SSH_IDENTITY_FILE / BUILD_SSH_IDENTITY_FILE: a key file on the worker machine for this host. */
  identityFile?: string;
  /** <ENV>_SSH_CONNECT_TIMEOUT / BUILD_SSH_CONNECT_TIMEOUT / SSH_CONNECT_TIMEOUT, in seconds. */
  connectTimeout?: number;
}

/** One jump host. Without a user, `User` of ~/.ssh/config for it applies, else the target's user. */
export interface SshHop {
  name: string;
  address: string;
  port: number;
  user?: string;
  portUnset?: true;
}

/** One deploy target: a host, where the release lives on it, and the node it runs. */
export interface HostTarget extends SshTarget {
  /** DELIVER_TO: the release is extracted into `<deployTo>/<app>`. */
  deployTo: string;
  /**
   * Ferry's name for the node on this host (NODE_NAME or <ENV>_NODE_NAMES), e.g. `hello@10.0.0.5`: written into its
   * vm.args with the release's name mode. Absent: the node keeps the name (and mode) its release gives it.
   */
  nodeName?: string;
}

/** How messages name a host's node: `node hello@10.0.0.5`, or `the node` when its release names it. */
export const nodeLabel = (h: Pick<HostTarget, 'nodeName'>): string => (h.nodeName ? `node ${h.nodeName}` : 'the node');

const ADDRESS = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[a-z_][a-z0-9_-]*\$?$/;
const PATH_PART = /^[A-Za-z0-9._@+-]+$/;
const NODE_NAME = /^[A-Za-z0-9_-]+@[A-Za-z0-9.-]+$/;
const HOST_NAME = /^[A-Za-z0-9._:[\]-]+$/;

/** Parses `host`, `host:port`, `user@host` or `user@host:port`; `defaultUser` fills a missing user. */
export function parseSshTarget(text: string, defaultUser: string | undefined, what: string): SshTarget {
  if (text.length > LIMITS.address + LIMITS.user + 7) throw new InputError(`${what}: host ${shown(text)} is too long`);
  const m = /^(?:([^@\s]+)@)?([^:\s]+|\[[^\]]+\])(?::(\d+))?$/.exec(text);
  if (!m) throw new InputError(`${what}: cannot read host ${shown(text)}: expected host, host:port or user@host:port`);
  const [, user = defaultUser, address = '', portText] = m;
  if (address.length > LIMITS.address) throw new InputError(`${what}: host name ${shown(address)} is longer than ${LIMITS.address} characters`);
  if (!ADDRESS.test(address)) throw new InputError(`${what}: invalid host name ${shown(address)}`);
  const port = portText === undefined ? 22 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`${what}: invalid port "${portText}" in ${shown(text)}`);
  if (user === undefined || user === '') throw new InputError(`${what}: no user for host ${shown(text)}: set it as user@host`);
  if (user.length > LIMITS.user) throw new InputError(`${what}: user name ${shown(user)} is longer than ${LIMITS.user} characters`);
  if (!USER.test(user)) throw new InputError(`${what}: invalid user name ${shown(user)}`);
  return { name: port === 22 ? address : `${address}:${port}`, address, port, user, ...(portText === undefined ? { portUnset: true as const } : {}) };
}

/**
 * Parses a ProxyJump list as OpenSSH writes it: `[user@]host[:port]` hops separated by commas, first hop first;
 * `none` is the empty list. Throws InputError naming `what`.
 */
export function parseJump(text: string, what: string): SshHop[] {
  if (text.trim() === 'none') return [];
  return text.split(',').map((hop) => {
    const h = hop.trim();
    // A placeholder user only lets parseSshTarget check the rest; a hop without `user@` keeps no user.
    const t = parseSshTarget(h, h.includes('@') ? undefined : 'placeholder', what);
    const { user, ...rest } = t;
    return h.includes('@') ? { ...rest, user } : rest;
  });
}

/** An absolute path of at most 1024 characters without spaces or shell metacharacters; `..` is refused. */
export function absolutePath(text: string, what: string): string {
  if (text.length > LIMITS.path) throw new InputError(`${what}: ${shown(text)} is longer than ${LIMITS.path} characters`);
  // Checked part by part: one regex over the whole path backtracks exponentially on a bad character.
  const [first, ...parts] = text.split('/');
  const ok = first === '' && parts.length > 0 && parts.every((p, i) => (p === '' ? i === parts.length - 1 : PATH_PART.test(p) && p !== '..'));
  if (!ok) {
    throw new InputError(`${what}: ${shown(text)} must be an absolute path of letters, digits and . _ @ + -`);
  }
  return text.length > 1 ? text.replace(/\/+$/, '') : text;
}

/** How Ferry names a host in output and in workflow ids: `address` or `address:port`, at most 260 characters. */
export function hostName(text: string, what: string): string {
  if (text.length > LIMITS.hostName || !HOST_NAME.test(text)) {
    throw new InputError(`${what}: invalid host name ${shown(text)}: expected address or address:port (letters, digits and . _ - : [ ])`);
  }
  return text;
}

/** An Erlang node name `name@host` (letters, digits, `_`, `-`; a host of letters, digits, `.`, `-`; at most 255 characters, as every atom); throws InputError. */
export function nodeName(text: string, what: string): string {
  if (text.length > LIMITS.nodeName) throw new InputError(`${what}: node name ${shown(text)} is longer than ${LIMITS.nodeName} characters`);
  if (!NODE_NAME.test(text)) throw new InputError(`${what}: invalid node name ${shown(text)}: expected name@host`);
  return text;
}

/** Where things are inside `<deployTo>/<app>` on a host (edeliver's layout plus Ferry's own files). */
export interface ReleaseLayout {
  root: string;
  bin: string;
  releasesDir: string;
  releaseDir(v: Version | string): string;
  /** edeliver's place for a release tarball on the host. */
  tarball(v: Version | string): string;
  /** The per-host vm.args Ferry writes once; every version links to it. */
  vmArgs: string;
  /** The node's Erlang cookie (COOKIE_FILE), mode 0400. */
  cookie: string;
  /** run_erl pipes of this node, under the deploy root instead of the shared /tmp/erl_pipes. */
  pipeDir: string;
  logDir: string;
}

export function releaseLayout(deployTo: string, app: string): ReleaseLayout {
  const root = `${deployTo}/${app}`;
  return {
    root,
    bin: `${root}/bin/${app}`,
    releasesDir: `${root}/releases`,
    releaseDir: (v) => `${root}/releases/${v}`,
    tarball: (v) => `${root}/releases/${v}/${app}.tar.gz`,
    vmArgs: `${root}/ferry/vm.args`,
    cookie: `${root}/ferry/cookie`,
    pipeDir: `${root}/ferry/pipes/`,
    logDir: `${root}/log`,
  };
}

/** Per-project SSH overrides: paths on the worker machine, never key material. */
export interface SshSettings {
  knownHostsFile?: string;
  identityFile?: string;
  /** SSH_CONFIG: the OpenSSH client config the worker reads instead of ~/.ssh/config; `none` reads none. */
  configFile?: string;
}

/** How the nodes of an environment find each other at boot: kernel `sync_nodes_optional` or `sync_nodes_mandatory`. */
export interface ClusterSettings {
  /** optional: boot goes on without the missing nodes after the timeout; mandatory: the node stops instead. */
  mode: 'optional' | 'mandatory';
  /** Every node of the environment, in host order; each node gets the others. */
  nodes: string[];
  /** kernel `sync_nodes_timeout`, in milliseconds. */
  timeoutMs: number;
  /**
   * kernel `distributed`: the application runs on one node at a time, the first node of `nodes` while it is up, else
   * one of the others; it moves after `failoverMs` without its node.
   */
  distributed?: { failoverMs: number };
}

/**
 * Per-node configuration an environment gives its hosts on deploy. Paths are on the target hosts, except `cookieFile`,
 * which is on the worker machine: the activity reads it, so the cookie never crosses the workflow boundary.
 */
export interface NodeSettings {
  /** LINK_VM_ARGS: a vm.args on each host that `releases/<vsn>/vm.args` links to and Ferry's vm.args includes. */
  linkVmArgs?: string;
  /** LINK_SYS_CONFIG: a sys.config on each host that `releases/<vsn>/sys.config` links to. */
  linkSysConfig?: string;
  cluster?: ClusterSettings;
  /** COOKIE_FILE: the Erlang cookie, in a file on the worker machine. */
  cookieFile?: string;
}

/** kernel `distributed` for `app`: `[{app,Ms,['first',{'second','third'}]}]`, the first node preferred. */
export function distributedList(cluster: ClusterSettings, app: string, failoverMs: number): string {
  const [first, ...rest] = cluster.nodes.map((n) => `'${nodeName(n, 'cluster node')}'`);
  if (!/^[a-z][a-z0-9_]*$/.test(app)) throw new InputError(`invalid application name "${app}"`);
  return `[{${app},${failoverMs},[${[first, ...(rest.length > 0 ? [`{${rest.join(',')}}`] : [])].join(',')}]}]`;
}

/** The other nodes a node syncs with at boot, as the Erlang list `['a@h','b@h']`. */
export function syncList(cluster: ClusterSettings, self: string): string {
  return `[${cluster.nodes
    .filter((n) => n !== self)
    .map((n) => `'${nodeName(n, 'cluster node')}'`)
    .join(',')}]`;
}

/** One running node's view of its cluster: its own name and the nodes it sees. */
export interface ClusterView {
  host: string;
  node: string;
  sees: string[];
}

/**
 * For each view (by host): the nodes it misses, every one of `expected` (default: the names the views give) but itself
 * that it does not see; and `twin`, another host whose node has the same name, which no cluster allows.
 */
export function clusterGaps(views: ClusterView[], expected?: string[]): Map<string, { missing: string[]; twin?: string }> {
  const names = expected ?? [...new Set(views.map((v) => v.node))];
  return new Map(
    views.map((v) => {
      const twin = views.find((o) => o.host !== v.host && o.node === v.node)?.host;
      return [v.host, { missing: names.filter((n) => n !== v.node && !v.sees.includes(n)), ...(twin ? { twin } : {}) }];
    }),
  );
}
