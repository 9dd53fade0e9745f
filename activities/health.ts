import { Context } from '@temporalio/activity';
import { HealthCheckFailedError, InputError } from '../core/domain/errors';
import type { HostTarget } from '../core/domain/host';

/** The probe URL for one host: `{host}` becomes its address (bracketed when it is IPv6). */
export function probeUrl(template: string, host: Pick<HostTarget, 'address'>): URL {
  const address = host.address.includes(':') ? `[${host.address}]` : host.address;
  const text = template.replaceAll('{host}', address);
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new InputError(`health URL ${JSON.stringify(text)} is not an http:// or https:// URL`);
}

/** Probes run from the worker itself. */
export function healthActivities() {
  return {
    /**
     * One try of a rollout's HTTP probe: a GET from the worker that must answer `expectStatus` (redirects are not
     * followed) within `timeoutSeconds`; otherwise HealthCheckFailedError (retryable). Read-only.
     */
    async probeHttp(t: { host: HostTarget; url: string; expectStatus: number; timeoutSeconds: number }): Promise<{ host: string; status: number }> {
      const url = probeUrl(t.url, t.host);
      const signal = AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(t.timeoutSeconds * 1000)]);
      let status: number;
      try {
        const res = await fetch(url, { redirect: 'manual', signal });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
        throw new HealthCheckFailedError(`${t.host.name}: GET ${url.href} failed: ${cause}`);
      }
      if (status !== t.expectStatus) throw new HealthCheckFailedError(`${t.host.name}: GET ${url.href} answered ${status}, expected ${t.expectStatus}`);
      return { host: t.host.name, status };
    },
  };
}
