import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import pino from 'pino';

/** The worker's JSON log: stderr, or FERRY_LOG_FILE when set. Secrets are redacted as a second line of defence. */
export const logger = pino(
  { name: 'ferry-worker', level: process.env.FERRY_LOG_LEVEL ?? 'info', redact: ['*.privateKey', '*.secretAccessKey', '*.passphrase'] },
  process.env.FERRY_LOG_FILE ? pino.destination({ dest: process.env.FERRY_LOG_FILE, mkdir: true, sync: false }) : pino.destination(2),
);

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Routes SDK, workflow and activity logs, with their Temporal metadata, into pino. */
export const temporalLogger = new DefaultLogger('INFO', ({ level, message, meta }: LogEntry) =>
  logger[PINO_LEVEL[level]](meta ?? {}, message),
);
