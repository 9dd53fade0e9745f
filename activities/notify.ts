import { Context, log } from '@temporalio/activity';

/** Where notifications go: NOTIFY_URLS of the worker's environment, `${VAR}` in them expanded from it when sending. */
export interface NotifySettings {
  urls: string[];
  env: Record<string, string | undefined>;
  /** The Temporal UI the links point to (FERRY_TEMPORAL_UI_URL, default the dev server's http://localhost:8233). */
  uiUrl: string;
}

/** Reads NOTIFY_URLS (space-separated; `slack+https://...` sends a Slack-compatible body) and FERRY_TEMPORAL_UI_URL. */
export function notifySettingsFromEnv(env: Record<string, string | undefined>): NotifySettings {
  return { urls: (env.NOTIFY_URLS ?? '').split(/\s+/).filter((u) => u !== ''), env, uiUrl: (env.FERRY_TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, '') };
}

/** What a rollout reports; no secret is ever part of it (it is in the workflow history). */
export interface Notification {
  event: 'started' | 'waiting for approval' | 'approved' | 'rejected' | 'stage done' | 'bake failed' | 'rolled back' | 'succeeded' | 'failed' | 'aborted';
  app: string;
  environment: string;
  version: string;
  /** The versions the hosts ran before, when known. */
  fromVersions?: string[];
  hosts: string[];
  who?: string;
  detail?: string;
  workflowId: string;
  runId: string;
}

/** `${VAR}` from the worker's environment; a variable that is not set is an error naming it (never its value). */
export function expandVariables(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`NOTIFY_URLS names \${${name}}, which is not set in the worker's environment`);
    return value;
  });
}

export function notifyActivities(settings: NotifySettings) {
  return {
    /**
     * POSTs the notification to every NOTIFY_URLS entry, as JSON (with a link to the workflow in the Temporal UI) or,
     * for `slack+` entries, as a Slack-compatible `{"text": ...}`. Any answer but 2xx or a network error throws
     * (retryable); errors name the host only, never the URL (it may hold a token). Nothing configured: nothing sent.
     */
    async notify(n: Notification): Promise<{ sent: number }> {
      const ns = Context.current().info.workflowNamespace ?? 'default';
      const link = `${settings.uiUrl}/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(n.workflowId)}/${encodeURIComponent(n.runId)}/history`;
      const body = { ...n, link };
      for (const entry of settings.urls) {
        const slack = entry.startsWith('slack+');
        const url = new URL(expandVariables(slack ? entry.slice(6) : entry, settings.env));
        const text = `${n.app} ${n.version} to ${n.environment}: ${n.event}${n.who ? ` (${n.who})` : ''}${n.detail ? `: ${n.detail}` : ''} <${link}|workflow>`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(slack ? { text } : body),
          signal: AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(10_000)]),
        }).catch((err: unknown) => {
          throw new Error(`notification to ${url.host} failed: ${(err as Error).message}`);
        });
        await res.body?.cancel();
        if (res.status < 200 || res.status > 299) throw new Error(`notification to ${url.host} answered ${res.status}`);
      }
      if (settings.urls.length > 0) log.info('notification sent', { event: n.event, to: settings.urls.length });
      return { sent: settings.urls.length };
    },
  };
}
