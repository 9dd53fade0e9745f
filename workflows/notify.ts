import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities, Notification } from '../activities';

/** A webhook is worth a few tries, not a stuck rollout: five tries over about a minute. */
const act = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5 } });

/** Sends a rollout event to the worker's NOTIFY_URLS; a notification that cannot be sent is logged, never fatal. */
export async function notify(n: Notification): Promise<void> {
  await act.notify(n).catch((err: unknown) => log.warn('notification not sent', { event: n.event, error: err instanceof Error ? err.message : String(err) }));
}
