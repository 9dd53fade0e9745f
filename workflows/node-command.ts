import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, OnHost } from '../activities';
import { clusterGaps, nodeLabel } from '../core/domain/host';
import { nodeCommandRequestSchema, type NodeCommand, type NodeCommandRequest, type NodeCommandResult, type NodeResult } from '../core/domain/requests';
import { failureMessage, validInput } from './failures';
import { SSH_STEP, VERIFY } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const verify = proxyActivities<Activities>(VERIFY);

/** start | stop | restart | ping | version | cluster on every host of an environment, in parallel; one result per host. */
export async function nodeCommand(input: NodeCommandRequest): Promise<NodeCommandResult> {
  const req = validInput(nodeCommandRequestSchema, input, 'nodeCommand');
  const targets = req.hosts.map((host): OnHost => ({ host, app: req.app, ssh: req.ssh }));
  const command = req.command;
  const hosts = command === 'cluster' ? await clusterCheck(targets, req.expectedNodes) : await Promise.all(targets.map((t) => onNode(t, command)));
  const result: NodeCommandResult = { command, environment: req.environment, hosts, failed: hosts.filter((h) => !h.ok).length };
  if (result.failed > 0) {
    throw ApplicationFailure.create({
      type: 'NodeCommandFailed',
      nonRetryable: true,
      message: `${command} failed on ${result.failed} of ${hosts.length} hosts: ${hosts.filter((h) => !h.ok).map((h) => h.host).join(', ')}`,
      details: [result],
    });
  }
  return result;
}

/** One command on one host's node; a failure is the host's result, not the workflow's. */
async function onNode(t: OnHost, command: Exclude<NodeCommand, 'cluster'>): Promise<NodeResult> {
  const host = t.host.name;
  try {
    switch (command) {
      case 'start':
      case 'restart': {
        const { action } = await ssh.startNode({ ...t, restart: command === 'restart' });
        const s = await verify.verifyRunning(t);
        return { host, ok: true, running: true, version: s.version, action };
      }
      case 'stop':
        await ssh.stopNode(t);
        return { host, ok: true, running: false, action: 'stopped' };
      case 'ping':
      case 'version': {
        const s = await ssh.nodeState(t);
        return s.running ? { host, ok: true, running: true, version: s.version } : { host, ok: false, running: false, error: `${nodeLabel(t.host)} is not running` };
      }
    }
  } catch (err) {
    return { host, ok: false, error: failureMessage(err) };
  }
}

/**
 * Asks every node for its name and the nodes it sees, then flags on each the nodes it misses: of `expected` (Ferry's
 * names), or, when the release names the nodes, of the names the running nodes gave. Two hosts whose nodes share a
 * name both fail: one cluster cannot hold them.
 */
async function clusterCheck(targets: OnHost[], expected: string[] | undefined): Promise<NodeResult[]> {
  const views = await Promise.all(
    targets.map((t) =>
      ssh.clusterView(t).then(
        (v) => ({ host: t.host.name, ...v }),
        (err: unknown) => ({ host: t.host.name, running: false, error: failureMessage(err) }),
      ),
    ),
  );
  const gaps = clusterGaps(views.flatMap((v) => (v.running && 'node' in v && v.node !== undefined ? [{ host: v.host, node: v.node, sees: v.sees ?? [] }] : [])), expected);
  return views.map((v): NodeResult => {
    const gap = gaps.get(v.host);
    if ('error' in v) return { host: v.host, ok: false, error: v.error };
    if (!gap || v.node === undefined) return { host: v.host, ok: false, running: false, ...(v.node ? { node: v.node } : {}), error: `${nodeLabel({ nodeName: v.node })} is not running` };
    const seen = { host: v.host, running: true, node: v.node, sees: v.sees ?? [], missing: gap.missing };
    if (gap.twin) return { ...seen, ok: false, error: `${v.host} and ${gap.twin} both run node ${v.node}: nodes of one cluster need distinct names (NODE_NAME or <ENV>_NODE_NAMES)` };
    return gap.missing.length === 0 ? { ...seen, ok: true } : { ...seen, ok: false, error: `${v.node} does not see ${gap.missing.join(', ')}` };
  });
}
