import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, OnHost } from '../activities';
import { nodeCommandRequestSchema, type NodeCommandRequest, type NodeCommandResult, type NodeResult } from '../core/domain/requests';
import { failureMessage, validInput } from './failures';
import { SSH_STEP, VERIFY } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const verify = proxyActivities<Activities>(VERIFY);

/** start | stop | restart | ping | version on every host of an environment, in parallel; one result per host. */
export async function nodeCommand(input: NodeCommandRequest): Promise<NodeCommandResult> {
  const req = validInput(nodeCommandRequestSchema, input, 'nodeCommand');
  const hosts = await Promise.all(
    req.hosts.map(async (host): Promise<NodeResult> => {
      const t: OnHost = { host, app: req.app, ssh: req.ssh };
      try {
        switch (req.command) {
          case 'start':
          case 'restart': {
            const { action } = await ssh.startNode({ ...t, restart: req.command === 'restart' });
            const s = await verify.verifyRunning(t);
            return { host: host.name, ok: true, running: true, version: s.version, action };
          }
          case 'stop':
            await ssh.stopNode(t);
            return { host: host.name, ok: true, running: false, action: 'stopped' };
          case 'cluster': {
            const { node, running, sees = [] } = await ssh.clusterView(t);
            if (!running) return { host: host.name, ok: false, running: false, node, error: `node ${node} is not running` };
            const missing = (req.expectedNodes ?? []).filter((n) => n !== node && !sees.includes(n));
            return missing.length === 0
              ? { host: host.name, ok: true, running: true, node, sees, missing }
              : { host: host.name, ok: false, running: true, node, sees, missing, error: `${node} does not see ${missing.join(', ')}` };
          }
          case 'ping':
          case 'version': {
            const s = await ssh.nodeState(t);
            return s.running
              ? { host: host.name, ok: true, running: true, version: s.version }
              : { host: host.name, ok: false, running: false, error: `node ${host.nodeName} is not running` };
          }
        }
      } catch (err) {
        return { host: host.name, ok: false, error: failureMessage(err) };
      }
    }),
  );
  const result: NodeCommandResult = { command: req.command, environment: req.environment, hosts, failed: hosts.filter((h) => !h.ok).length };
  if (result.failed > 0) {
    throw ApplicationFailure.create({
      type: 'NodeCommandFailed',
      nonRetryable: true,
      message: `${req.command} failed on ${result.failed} of ${hosts.length} hosts: ${hosts.filter((h) => !h.ok).map((h) => h.host).join(', ')}`,
      details: [result],
    });
  }
  return result;
}
