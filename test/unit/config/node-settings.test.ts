import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployRequest, nodeCommandRequest, rolloutPlan, upgradeEnvironmentRequest } from '../../../client/requests';
import { parseDeliveryConfig, selectHosts, type ParseContext } from '../../../core/config/parse';
import { deliveryConfigSchema, type DeliveryConfig } from '../../../core/config/schema';
import { rolloutPlanSchema } from '../../../core/domain/plan';
import { deployRequestSchema, nodeCommandRequestSchema, upgradeEnvironmentRequestSchema } from '../../../core/domain/requests';

const ctx: ParseContext = { source: '.deliver/config', projectDir: '/home/ana/hello', detectedTool: 'rebar3' };

/** Three production hosts on one machine, as the cluster example has them. */
const base: Record<string, string> = {
  APP: 'hello',
  BUILD_HOST: 'build.example.com',
  BUILD_USER: 'builder',
  BUILD_AT: '/tmp/edeliver/hello/builds',
  PRODUCTION_HOSTS: '10.0.0.1 10.0.0.2 10.0.0.3',
  PRODUCTION_USER: 'deploy',
  STAGING_HOSTS: 'stage1',
  STAGING_USER: 'deploy',
  DELIVER_TO: '/opt/apps',
};

function parsed(vars: Record<string, string>): DeliveryConfig {
  const result = parseDeliveryConfig({ ...base, ...vars }, ctx);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${result.errors.join('\n')}`);
  assert.deepEqual(deliveryConfigSchema.parse(result.config), result.config);
  return result.config;
}

function errorsOf(vars: Record<string, string>): string[] {
  const result = parseDeliveryConfig({ ...base, ...vars }, ctx);
  if (result.ok) assert.fail('expected errors, got a valid config');
  return result.errors;
}

test('no per-node variable: environments have no node settings', () => {
  const c = parsed({});
  assert.equal(c.environments.production!.node, undefined);
  assert.equal(Object.hasOwn(deployRequest(c, 'production', { version: '0.1.0' }), 'node'), false);
});

test('LINK_VM_ARGS, LINK_SYS_CONFIG and COOKIE_FILE apply to every environment; <ENV>_ ones override them', () => {
  const c = parsed({
    LINK_VM_ARGS: '/etc/hello/vm.args',
    LINK_SYS_CONFIG: '/etc/hello/sys.config',
    COOKIE_FILE: '/etc/ferry/hello.cookie',
    STAGING_LINK_SYS_CONFIG: '/etc/hello/staging.config',
  });
  assert.deepEqual(c.environments.production!.node, {
    linkVmArgs: '/etc/hello/vm.args',
    linkSysConfig: '/etc/hello/sys.config',
    cookieFile: '/etc/ferry/hello.cookie',
  });
  assert.equal(c.environments.staging!.node!.linkSysConfig, '/etc/hello/staging.config');
});

test('a relative or unsafe LINK path is refused once, naming the variable', () => {
  const errors = errorsOf({ LINK_VM_ARGS: 'vm.args', LINK_SYS_CONFIG: '/etc/$(reboot)' });
  assert.deepEqual(errors, [
    '.deliver/config: LINK_VM_ARGS: "vm.args" must be an absolute path of letters, digits and . _ @ + -',
    '.deliver/config: LINK_SYS_CONFIG: "/etc/$(reboot)" must be an absolute path of letters, digits and . _ @ + -',
  ]);
});

test('<ENV>_NODE_NAMES gives each host its node name, in host order, instead of NODE_NAME', () => {
  const c = parsed({ PRODUCTION_NODE_NAMES: 'node1@127.0.0.1 node2@127.0.0.1 node3@127.0.0.1', NODE_NAME: '{app}@{host}' });
  assert.deepEqual(
    c.environments.production!.hosts.map((h) => h.nodeName),
    ['node1@127.0.0.1', 'node2@127.0.0.1', 'node3@127.0.0.1'],
  );
  assert.deepEqual(c.environments.staging!.hosts.map((h) => h.nodeName), ['hello@stage1']);
});

/** The node-name problems a command that reaches production's nodes reports (the config itself parses). */
const nodeNameErrorsOf = (vars: Record<string, string>): string[] => {
  const c = parsed(vars);
  assert.throws(() => selectHosts(c.environments.production!, undefined), { name: 'InputError' });
  assert.doesNotThrow(() => selectHosts(c.environments.staging!, undefined), 'another environment is not affected');
  return c.environments.production!.nodeNameErrors ?? [];
};

test('<ENV>_NODE_NAMES with the wrong count, a bad name or a repeated name is reported with the fix by commands that reach the nodes', () => {
  assert.deepEqual(nodeNameErrorsOf({ PRODUCTION_NODE_NAMES: 'node1@h node2@h' }), [
    '.deliver/config: PRODUCTION_NODE_NAMES: gives 2 node names for 3 hosts: give one name@host per host, in the order of PRODUCTION_HOSTS then PRODUCTION_NODES',
  ]);
  assert.deepEqual(nodeNameErrorsOf({ PRODUCTION_NODE_NAMES: 'node1@h node2 node1@h' }), [
    '.deliver/config: PRODUCTION_NODE_NAMES (production host 10.0.0.2): invalid node name "node2": expected name@host',
    '.deliver/config: PRODUCTION_NODE_NAMES: production hosts 10.0.0.1 and 10.0.0.3 both get node name "node1@h": ' +
      'make it unique per host, e.g. NODE_NAME="{app}_{port}@{host}" or "{app}{index}@{host}"; hosts that share one address behind ' +
      'different SSH ports (port-forwarded machines) need {port} or {index}, or one name each in PRODUCTION_NODE_NAMES; ' +
      "or unset NODE_NAME and the nodes keep the names their release's vm.args gives",
  ]);
});

test('<ENV>_CLUSTER without NODE_NAME or <ENV>_NODE_NAMES is refused by commands that reach the nodes, asking for names', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'true' });
  assert.equal(c.environments.production!.node, undefined);
  assert.deepEqual(c.environments.production!.nodeNameErrors, [
    '.deliver/config: PRODUCTION_CLUSTER: a cluster needs Ferry to know every node\'s name before the nodes start: ' +
      'set NODE_NAME (e.g. NODE_NAME="{app}@{host}") or PRODUCTION_NODE_NAMES (one name@host per host)',
  ]);
  for (const make of [() => deployRequest(c, 'production', { version: '0.1.0' }), () => nodeCommandRequest(c, 'production', 'ping')]) {
    assert.throws(make, { name: 'InputError', message: /PRODUCTION_CLUSTER: a cluster needs Ferry to know every node's name/ });
  }
  assert.doesNotThrow(() => deployRequest(c, 'staging', { version: '0.1.0' }));
});

test('without Ferry\'s names, hosts carry none and ping --cluster expects the names the nodes give', () => {
  const c = parsed({});
  assert.deepEqual(c.environments.production!.hosts.map((h) => h.nodeName), [undefined, undefined, undefined]);
  const ping = nodeCommandRequest(c, 'production', 'cluster');
  assert.equal(Object.hasOwn(ping, 'expectedNodes'), false);
  assert.equal(nodeCommandRequestSchema.safeParse(ping).success, true);
  assert.equal(deployRequestSchema.safeParse(deployRequest(c, 'production', { version: '0.1.0' })).success, true);
});

test('<ENV>_CLUSTER=true lists every node of the environment with sync_nodes_optional and a 30 s timeout', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'true', NODE_NAME: '{app}{index}@{host}' });
  assert.deepEqual(c.environments.production!.node, {
    cluster: { mode: 'optional', nodes: ['hello1@10.0.0.1', 'hello2@10.0.0.2', 'hello3@10.0.0.3'], timeoutMs: 30000 },
  });
  assert.equal(c.environments.staging!.node, undefined);
});

test('<ENV>_CLUSTER=mandatory and <ENV>_CLUSTER_TIMEOUT; false means no cluster', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'mandatory', PRODUCTION_CLUSTER_TIMEOUT: '5000', STAGING_CLUSTER: 'false', NODE_NAME: '{app}@{host}' });
  assert.equal(c.environments.production!.node!.cluster!.mode, 'mandatory');
  assert.equal(c.environments.production!.node!.cluster!.timeoutMs, 5000);
  assert.equal(c.environments.staging!.node, undefined);
});

test('an unknown <ENV>_CLUSTER or a bad timeout is reported with the fix', () => {
  assert.deepEqual(errorsOf({ PRODUCTION_CLUSTER: 'always', PRODUCTION_CLUSTER_TIMEOUT: '5s' }), [
    '.deliver/config: PRODUCTION_CLUSTER: "always" is not a cluster mode: set PRODUCTION_CLUSTER=true (sync_nodes_optional) or PRODUCTION_CLUSTER=mandatory (sync_nodes_mandatory)',
    '.deliver/config: PRODUCTION_CLUSTER_TIMEOUT: "5s" must be a whole number of at least 1',
  ]);
});

test('a deploy to some hosts still gives each the whole cluster; ping --cluster expects every node', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'true', PRODUCTION_NODE_NAMES: 'a@h b@h c@h', LINK_VM_ARGS: '/etc/hello/vm.args' });
  const request = deployRequest(c, 'production', { version: '0.1.0', host: ['10.0.0.2'] });
  assert.deepEqual(request.hosts.map((h) => h.nodeName), ['b@h']);
  assert.deepEqual(request.node, { linkVmArgs: '/etc/hello/vm.args', cluster: { mode: 'optional', nodes: ['a@h', 'b@h', 'c@h'], timeoutMs: 30000 } });
  assert.equal(deployRequestSchema.safeParse(request).success, true);
  const ping = nodeCommandRequest(c, 'production', 'cluster', ['10.0.0.1']);
  assert.deepEqual(ping.expectedNodes, ['a@h', 'b@h', 'c@h']);
  assert.equal(nodeCommandRequestSchema.safeParse(ping).success, true);
  assert.equal(Object.hasOwn(nodeCommandRequest(c, 'production', 'ping'), 'expectedNodes'), false);
});

test('the deploy request schema refuses a cluster node name that could break out of the Erlang list', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'true', NODE_NAME: '{app}@{host}' });
  const request = deployRequest(c, 'production', { version: '0.1.0' });
  const bad = { ...request, node: { cluster: { mode: 'optional', nodes: ["a'@h"], timeoutMs: 1000 } } };
  const r = deployRequestSchema.safeParse(bad);
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /invalid node name/);
});

test('rollout stages and ferry upgrade carry the node settings of their environment', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'mandatory', LINK_SYS_CONFIG: '/etc/hello/sys.config', NODE_NAME: '{app}@{host}' });
  const plan = rolloutPlan(c, ['staging', 'production'], { version: '0.1.0' }, 'ana');
  assert.deepEqual(plan.stages[0]!.node, { linkSysConfig: '/etc/hello/sys.config' });
  assert.deepEqual(plan.stages[1]!.node!.cluster!.nodes, ['hello@10.0.0.1', 'hello@10.0.0.2', 'hello@10.0.0.3']);
  assert.equal(rolloutPlanSchema.safeParse(plan).success, true);
  const upgrade = upgradeEnvironmentRequest(c, 'production', {});
  assert.equal(upgrade.node!.cluster!.mode, 'mandatory');
  assert.equal(upgradeEnvironmentRequestSchema.safeParse(upgrade).success, true);
});

test('<ENV>_CLUSTER_DISTRIBUTED sets the failover time of kernel distributed; it needs <ENV>_CLUSTER', () => {
  const c = parsed({ PRODUCTION_CLUSTER: 'mandatory', PRODUCTION_CLUSTER_DISTRIBUTED: '5000', NODE_NAME: '{app}@{host}' });
  assert.deepEqual(c.environments.production!.node!.cluster!.distributed, { failoverMs: 5000 });
  assert.deepEqual(errorsOf({ PRODUCTION_CLUSTER_DISTRIBUTED: '5000' }), [
    '.deliver/config: PRODUCTION_CLUSTER_DISTRIBUTED: needs PRODUCTION_CLUSTER=true or PRODUCTION_CLUSTER=mandatory',
  ]);
});
