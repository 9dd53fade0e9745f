import { environmentOf } from '../../core/config/parse';
import { InputError } from '../../core/domain/errors';
import { version as checkVersion } from '../../core/domain/release';
import { SEARCH } from '../../core/domain/search';
import { errorText, withClient } from '../temporal';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

export interface HistoryOptions extends GlobalOptions {
  version?: string;
  limit?: number;
}

/** One past or running deploy, update, upgrade or rollout, as Temporal's visibility lists it. */
export interface HistoryEntry {
  workflowId: string;
  runId: string;
  type: string;
  environment?: string;
  version?: string;
  phase?: string;
  outcome?: string;
  status: string;
  startTime: string;
  closeTime?: string;
  startedBy?: string;
}

/**
 * `ferry history [<env>] [--version=V]`: the app's deploys, updates, upgrades and rollouts, newest first, found by
 * their search attributes (FerryApp, FerryEnvironment, FerryVersion). Temporal keeps closed runs for the namespace's
 * retention (30 days in docker-compose.yml), so this reaches back that far.
 */
export async function historyVerb(ctx: VerbContext, env: string | undefined, opts: HistoryOptions): Promise<number> {
  const config = await loadConfig(opts, ctx);
  if (env !== undefined) environmentOf(config, env);
  if (opts.version !== undefined) checkVersion(opts.version);
  // Every value is checked above (app and environment names, the version rule): none can hold a quote.
  const query = [
    `${SEARCH.app.name} = '${config.app}'`,
    ...(env !== undefined ? [`${SEARCH.environment.name} = '${env}'`] : []),
    ...(opts.version !== undefined ? [`${SEARCH.version.name} = '${opts.version}'`] : []),
  ].join(' AND ');
  const limit = opts.limit ?? 20;
  const entries = await withClient(ctx.env, async (client) => {
    const found: HistoryEntry[] = [];
    try {
      for await (const w of client.workflow.list({ query })) {
        // Children that inherited the attributes are part of their parent's run.
        if (w.parentExecution) continue;
        const get = (k: keyof typeof SEARCH) => w.typedSearchAttributes.get(SEARCH[k]);
        found.push({
          workflowId: w.workflowId,
          runId: w.runId,
          type: w.type,
          environment: get('environment'),
          version: get('version'),
          phase: get('phase'),
          outcome: get('outcome'),
          status: w.status.name,
          startTime: w.startTime.toISOString(),
          ...(w.closeTime ? { closeTime: w.closeTime.toISOString() } : {}),
          ...(typeof w.memo?.startedBy === 'string' ? { startedBy: w.memo.startedBy } : {}),
        });
        if (found.length >= limit) break;
      }
    } catch (err) {
      if (/search attribute/i.test(errorText(err))) {
        throw new InputError(
          `Temporal cannot search by Ferry's search attributes (${errorText(err)}); register them in the namespace: ` +
            'temporal operator search-attribute create --name FerryApp --type Keyword (and FerryEnvironment, FerryVersion, FerryPhase, FerryOutcome)',
        );
      }
      throw err;
    }
    return found;
  });
  entries.sort((a, b) => b.startTime.localeCompare(a.startTime));
  if (opts.json) {
    ctx.out.write(`${JSON.stringify(entries)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    ctx.out.write(`no deploys of ${config.app}${env ? ` to ${env}` : ''}${opts.version ? ` at ${opts.version}` : ''} in Temporal's history\n`);
    return 0;
  }
  for (const e of entries) {
    const state = e.outcome ?? (e.status === 'RUNNING' ? (e.phase ?? 'running') : e.status.toLowerCase());
    ctx.out.write(
      `${e.startTime.slice(0, 16).replace('T', ' ')}  ${(e.environment ?? '?').padEnd(12)} ${(e.version ?? '-').padEnd(10)} ${e.type.padEnd(18)} ${state.padEnd(20)} ${e.startedBy ?? ''}\n`,
    );
  }
  return 0;
}
