import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next, TelemetryOptions } from '@temporalio/worker';

/**
 * Prometheus metrics of the worker at FERRY_METRICS_ADDRESS (`host:port`, e.g. `0.0.0.0:9464`): the Temporal SDK's own
 * (slots, poll latency, task failures, ...) and Ferry's, all on one endpoint (`/metrics`). Ferry's:
 * - `ferry_deploys_total{workflow,outcome}`: deploys, upgrades and rollouts (workflows/metrics-interceptor.ts);
 * - `ferry_host_steps_total{step,outcome}` and `ferry_host_step_duration_seconds{step}`: activities on a host;
 * - `ferry_hosts_in_flight`: host steps running on this worker now;
 * - `ferry_bytes_transferred_total`: release and upgrade tarballs sent to hosts.
 */
export function metricsTelemetry(env: NodeJS.ProcessEnv = process.env): TelemetryOptions | undefined {
  const address = env.FERRY_METRICS_ADDRESS?.trim();
  if (!address) return undefined;
  if (!/^[^\s:]+:\d{1,5}$/.test(address)) throw new Error(`FERRY_METRICS_ADDRESS=${address}: give host:port, e.g. 0.0.0.0:9464`);
  return { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true, useSecondsForDurations: true } } };
}

let inFlight = 0;

/** The activity interceptor that records Ferry's host-step metrics (a no-op meter when no metrics are served). */
export const activityMetrics: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: new HostStepMetrics(ctx),
});

class HostStepMetrics implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const arg = input.args[0] as { host?: { name?: string }; release?: { size?: number } } | undefined;
    if (typeof arg?.host?.name !== 'string') return next(input);
    const meter = this.ctx.metricMeter;
    const step = this.ctx.info.activityType;
    const gauge = meter.createGauge('ferry_hosts_in_flight', 'int', '', 'Host steps running on this worker');
    gauge.set(++inFlight);
    const started = performance.now();
    let outcome = 'failed';
    try {
      const result = await next(input);
      outcome = 'ok';
      if (step === 'uploadRelease' && (result as { sent?: boolean } | undefined)?.sent && typeof arg.release?.size === 'number') {
        meter.createCounter('ferry_bytes_transferred', '', 'Release tarballs sent to hosts').add(arg.release.size);
      }
      return result;
    } finally {
      gauge.set(--inFlight);
      meter.createCounter('ferry_host_steps', '', 'Steps on hosts by outcome').add(1, { step, outcome });
      meter.createHistogram('ferry_host_step_duration_seconds', 'float', '', 'Duration of steps on hosts, in seconds').record((performance.now() - started) / 1000, { step });
    }
  }
}
