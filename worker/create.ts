import { Worker, type NativeConnection } from '@temporalio/worker';
import { notifySettingsFromEnv } from '../activities/notify';
import { createActivities } from '../activities';
import { SshPool, type SshAuth } from '../activities/ssh/ssh-pool';
import { storeFactory, type S3Settings } from '../activities/store';
import { workerFilesFromEnv } from '../activities/worker-files';
import { TASK_QUEUE } from '../core/domain/constants';
import { workflowBundle } from './bundle';
import { activityMetrics } from './metrics';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  auth: SshAuth;
  /** S3 credentials, region and endpoint, from the worker's environment (`s3SettingsFromEnv`). */
  s3: S3Settings;
  taskQueue?: string;
  /** Where requests may name files on this machine; default FERRY_WORKER_FILES, else the working directory and ~/.ssh. */
  workerFiles?: readonly string[];
}

/** A Ferry worker with every workflow and activity registered; the caller runs it and closes `ssh` after. */
export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; ssh: SshPool }> {
  const ssh = new SshPool(opts.auth);
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ ssh, auth: opts.auth, stores: storeFactory({ ssh, s3: opts.s3 }), workerFiles: opts.workerFiles ?? workerFilesFromEnv(), notify: notifySettingsFromEnv(process.env) }),
    maxConcurrentActivityTaskExecutions: 50,
    // Build output and byte counts travel in heartbeats; the CLI shows them live.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // A workflow task sent to a killed worker's sticky queue goes to the shared queue after 2 s (default 10 s), so a
    // replacement worker resumes the workflow within seconds (docs/scale.md).
    stickyQueueScheduleToStartTimeout: '2s',
    shutdownGraceTime: '10s',
    shutdownForceTime: '30s',
    // Ferry's host-step metrics (worker/metrics.ts); the deploy counter is a workflow interceptor in the bundle.
    interceptors: { activity: [activityMetrics] },
  });
  return { worker, ssh };
}
