import { isCancellation, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SEARCH, searchPairs, type SearchFields } from '../core/domain/search';

/**
 * Keeps Ferry's search attributes current (phase, outcome, a version learnt after a build). Only a run started with
 * them (the `ferry` CLI sets them at start) upserts, and only under the 'search-attributes' patch: runs started
 * without them, recorded histories and runs begun on an older worker replay unchanged.
 */
export function setSearch(fields: SearchFields): void {
  if (workflowInfo().typedSearchAttributes.get(SEARCH.app) === undefined) return;
  if (!patched('search-attributes')) return;
  upsertSearchAttributes(searchPairs(fields));
}

/** Runs a deploy, update or upgrade, then records its end: phase done, outcome succeeded, failed or aborted. */
export async function searched<T>(run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    setSearch({ phase: 'done', outcome: 'succeeded' });
    return result;
  } catch (err) {
    setSearch({ phase: 'done', outcome: isCancellation(err) ? 'aborted' : 'failed' });
    throw err;
  }
}
