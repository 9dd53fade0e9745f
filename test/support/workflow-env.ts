import { after, before } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { workflowBundle } from '../../worker/bundle';

/** The workflow bundle every workflow test runs (and replays): the worker's, cached by the digest of its sources. */
export { workflowBundle } from '../../worker/bundle';

/**
 * The dev server that scripts/with-test-env.sh started, connected before the test file's tests and closed after them.
 * Workflow tests run the real workflow code on it with activities replaced by plain objects typed as `Activities`.
 */
export function workflowEnv() {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('run workflow tests through `npm test` (scripts/with-test-env.sh starts the dev server)');
  const conn: { native?: NativeConnection; client?: Client } = {};
  before(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Installed already by another test file in this process.
    }
    conn.native = await NativeConnection.connect({ address });
    conn.client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  });
  after(async () => {
    await conn.native?.close();
    await conn.client?.connection.close();
  });
  return {
    get client(): Client {
      return conn.client!;
    },
    get native(): NativeConnection {
      return conn.native!;
    },
    /** Runs `fn` while a worker with `activities` polls `taskQueue`. */
    async withWorker<T>(taskQueue: string, activities: Activities, fn: () => Promise<T>): Promise<T> {
      const worker = await Worker.create({ connection: conn.native!, taskQueue, workflowBundle: await workflowBundle(), activities });
      return worker.runUntil(fn);
    },
  };
}
