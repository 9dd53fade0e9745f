import { NativeConnection, Runtime } from '@temporalio/worker';
import { defaultSshAuth } from '../activities/ssh/ssh-pool';
import { s3SettingsFromEnv } from '../activities/store';
import { createWorker } from './create';
import { logger, temporalLogger } from './logging';

/** Composition root of the worker process: reads the environment, connects, runs until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  Runtime.install({ logger: temporalLogger, shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'] });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const connection = await NativeConnection.connect({ address });
  const { worker, ssh } = await createWorker({ connection, namespace, auth: defaultSshAuth(), s3: s3SettingsFromEnv(process.env) });
  logger.info({ address, namespace, taskQueue: 'ferry' }, 'worker started');
  try {
    await worker.run();
  } finally {
    await ssh.close();
    await connection.close();
    logger.info('worker stopped');
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    logger.error({ err }, 'worker failed');
    process.exitCode = 1;
  });
}
