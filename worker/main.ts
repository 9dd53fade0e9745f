import { NativeConnection, Runtime } from '@temporalio/worker';
import { defaultSshAuth } from '../activities/ssh/ssh-pool';
import { s3SettingsFromEnv } from '../activities/store';
import { connectionOptions, temporalSettings } from '../activities/temporal-connection';
import { workerFilesFromEnv } from '../activities/worker-files';
import { createWorker } from './create';
import { logger, temporalLogger } from './logging';
import { metricsTelemetry } from './metrics';

/** Composition root of the worker process: reads the environment, connects, runs until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  // Prometheus metrics at FERRY_METRICS_ADDRESS, when set: the SDK's and Ferry's (worker/metrics.ts).
  const telemetryOptions = metricsTelemetry(process.env);
  Runtime.install({ logger: temporalLogger, shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'], ...(telemetryOptions ? { telemetryOptions } : {}) });
  // The same settings as the CLI's: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, or a Temporal CLI profile.
  const settings = temporalSettings(process.env);
  const { address, namespace } = settings;
  const connection = await NativeConnection.connect(connectionOptions(settings));
  const workerFiles = workerFilesFromEnv(process.env);
  const { worker, ssh } = await createWorker({ connection, namespace, auth: defaultSshAuth(), s3: s3SettingsFromEnv(process.env), workerFiles });
  logger.info({ address, namespace, source: settings.source, taskQueue: 'ferry', workerFiles, metrics: process.env.FERRY_METRICS_ADDRESS || undefined }, 'worker started');
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
