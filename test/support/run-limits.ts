import type { Client } from '@temporalio/client';

/** What one run of a workflow used of Temporal's per-run limits. */
export interface RunFigures {
  runId: string;
  events: number;
  /** The most children and activities pending at once. */
  maxPending: number;
  /** Workflow tasks that failed or timed out. */
  failedTasks: number;
  /** Bytes of the largest payload (the plan, or the carry) the run continued as new with; 0 for the last run. */
  carriedBytes: number;
}

/** An event of a run's history, told by which attributes it carries (no protobuf enum needed). */
type Event = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];
const opens = (e: Event) => Boolean(e.startChildWorkflowExecutionInitiatedEventAttributes || e.activityTaskScheduledEventAttributes);
const closes = (e: Event) =>
  Boolean(
    e.startChildWorkflowExecutionFailedEventAttributes ||
      e.childWorkflowExecutionCompletedEventAttributes ||
      e.childWorkflowExecutionFailedEventAttributes ||
      e.childWorkflowExecutionCanceledEventAttributes ||
      e.childWorkflowExecutionTimedOutEventAttributes ||
      e.childWorkflowExecutionTerminatedEventAttributes ||
      e.activityTaskCompletedEventAttributes ||
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes ||
      e.activityTaskCanceledEventAttributes,
  );

/** Walks the chain of runs of workflow `id` from `firstRunId`, following each continue-as-new, and measures each run. */
export async function runFigures(client: Client, id: string, firstRunId: string): Promise<RunFigures[]> {
  const runs: RunFigures[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await client.workflow.getHandle(id, runId).fetchHistory();
    const events = history.events ?? [];
    let pending = 0;
    let maxPending = 0;
    let failedTasks = 0;
    let next: string | undefined;
    let carriedBytes = 0;
    for (const e of events) {
      if (opens(e)) maxPending = Math.max(maxPending, ++pending);
      else if (closes(e)) pending--;
      else if (e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) failedTasks++;
      else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        const a = e.workflowExecutionContinuedAsNewEventAttributes!;
        next = a.newExecutionRunId ?? undefined;
        carriedBytes = Math.max(0, ...(a.input?.payloads ?? []).map((p) => p.data?.length ?? 0));
      }
    }
    runs.push({ runId, events: events.length, maxPending, failedTasks, carriedBytes });
    runId = next;
  }
  return runs;
}
