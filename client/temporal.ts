import { setMaxListeners } from 'node:events';
import { hostname, userInfo } from 'node:os';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TASK_QUEUE, workflowIds } from '../core/domain/constants';
import type { Freeze } from '../core/domain/freeze';
import { InputError } from '../core/domain/errors';
import { parseRequest } from '../core/domain/requests';
import { searchFieldsOf, searchPairs, summaryOf } from '../core/domain/search';
import { WORKFLOW_INPUTS, type WorkflowType } from '../core/domain/workflow-inputs';
import { connectionOptions, temporalSettings } from '../activities/temporal-connection';

/**
 * A Temporal client from the same settings as the worker's (`temporalSettings`: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TLS, API key, or a Temporal CLI profile); default: the local dev server.
 */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const settings = temporalSettings(env);
  const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: '5s' }).catch((err: Error) => {
    throw new InputError(
      `cannot reach Temporal at ${settings.address} (${settings.source}): ${err.message}; start it with \`make demo\`, or set TEMPORAL_ADDRESS or TEMPORAL_PROFILE`,
    );
  });
  return new Client({ connection, namespace: settings.namespace });
}

/**
 * Runs `fn` with a client, then closes its connection. Calls still in flight when `fn` returns (the result long poll
 * of a rollout that now waits for a person) are cancelled first, so that none is retried on a closed connection.
 */
export async function withClient<T>(env: NodeJS.ProcessEnv, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(env);
  const inFlight = new AbortController();
  // Every call made while following a long operation listens on it (progress polls): not a leak.
  setMaxListeners(0, inFlight.signal);
  try {
    return await client.withAbortSignal(inFlight.signal, () => fn(client));
  } finally {
    inFlight.abort();
    await client.connection.close();
  }
}

/** Workflows that change an environment: refused while it is frozen. */
const CHANGES: readonly WorkflowType[] = ['deployRelease', 'updateRelease', 'deployUpgrade', 'upgradeEnvironment', 'rollout', 'migrate'];

export interface StartSpec {
  workflowType: WorkflowType;
  workflowId: string;
  args: unknown[];
  /** What this request is, in words: the same words mean the same request, so the CLI attaches instead of failing. */
  request: string;
}

/**
 * Starts a workflow, or attaches to the same request already in flight (resumed, not restarted). A request its
 * workflow would refuse is an InputError here, before anything starts.
 * Another request under the same id is the environment lock: an InputError names the running one.
 */
export async function startOrAttach(client: Client, spec: StartSpec): Promise<{ handle: WorkflowHandle; attached: boolean }> {
  // The workflow checks its input again; checked here too, a bad request (a flag, a config value past a bound) starts nothing.
  parseRequest(WORKFLOW_INPUTS[spec.workflowType], spec.args[0], spec.workflowType);
  // Deploys, updates, upgrades and rollouts carry Ferry's search attributes and a summary for the Temporal UI.
  const search = searchFieldsOf(spec.workflowType, spec.args[0]);
  // A change to a frozen environment is refused; attaching to the same request already in flight is still fine.
  if (CHANGES.includes(spec.workflowType)) {
    const lock = spec.workflowId.split('/').slice(0, 3).join('/');
    const freeze = await activeFreeze(client, lock);
    const running = freeze && (await client.workflow.getHandle(spec.workflowId).describe().then((d) => d.status.name === 'RUNNING' && d.memo?.request === spec.request, () => false));
    if (freeze && !running) throw new InputError(`${lock.split('/')[2]} is frozen by ${freeze.by} since ${freeze.at}: ${freeze.reason}; \`ferry unfreeze\` lifts it`);
  }
  try {
    const handle = await client.workflow.start(spec.workflowType, {
      taskQueue: TASK_QUEUE,
      workflowId: spec.workflowId,
      args: spec.args,
      workflowIdConflictPolicy: 'FAIL',
      memo: { request: spec.request, startedBy: `${userInfo().username}@${hostname()}` },
      ...(search ? { typedSearchAttributes: searchPairs(search), staticSummary: summaryOf(spec.workflowType, search) } : {}),
    });
    return { handle, attached: false };
  } catch (err) {
    if (search && /search attribute/i.test(errorText(err))) {
      throw new InputError(
        `Temporal refused Ferry's search attributes (${errorText(err)}); register them in the namespace: ` +
          'temporal operator search-attribute create --name FerryApp --type Keyword (and FerryEnvironment, FerryVersion, FerryPhase, FerryOutcome)',
      );
    }
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle(spec.workflowId);
    const running = await handle.describe();
    const memo = running.memo ?? {};
    if (memo.request === spec.request) return { handle, attached: true };
    throw new InputError(
      `${spec.workflowId} is busy: "${String(memo.request ?? running.type)}" started by ${String(memo.startedBy ?? 'someone')} at ${running.startTime.toISOString()}; ` +
        `wait for it (\`temporal workflow show -w ${spec.workflowId}\`) or stop it (\`temporal workflow cancel -w ${spec.workflowId}\`)`,
    );
  }
}

/** An error's message with its causes' (the SDK's ServiceError keeps the server's words in its cause). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.join(': ');
}

/** The freeze of the environment whose lock is `lockId` (`ferry/<app>/<env>`), while one runs. */
export async function activeFreeze(client: Client, lockId: string): Promise<Freeze | undefined> {
  const [, app, env] = lockId.split('/');
  const handle = client.workflow.getHandle(workflowIds.freeze(app ?? '', env ?? ''));
  try {
    const d = await handle.describe();
    return d.status.name === 'RUNNING' ? await handle.query<Freeze>('freeze') : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The workflow's result; for a failure that carries a report (failed hosts), the report and the message. */
export async function outcome<T>(handle: WorkflowHandle): Promise<{ ok: true; result: T } | { ok: false; message: string; report?: T }> {
  try {
    return { ok: true, result: (await handle.result()) as T };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    let cause: unknown = err.cause;
    while (cause instanceof Error && cause.cause instanceof Error && !(cause instanceof ApplicationFailure && cause.details?.length)) cause = cause.cause;
    const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as T | undefined) : undefined;
    let inner: unknown = err;
    while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
    return { ok: false, message: inner instanceof Error ? inner.message : String(inner), report };
  }
}
