import type { BenchEnv, HistoryEvent } from './env';

/** One workflow's history, through the stock CLI (`temporal workflow show --output json`). */
export function historyOf(env: BenchEnv, workflowId: string): HistoryEvent[] {
  const r = env.temporal('workflow', 'show', '--workflow-id', workflowId, '--output', 'json');
  if (r.code !== 0) throw new Error(`temporal workflow show ${workflowId}: ${r.err}`);
  return (JSON.parse(r.out) as { events: HistoryEvent[] }).events;
}

/** The history of a parent and of every child it started (one level down, which is all Ferry's workflows use). */
export function familyHistory(env: BenchEnv, workflowId: string): { parent: HistoryEvent[]; children: Map<string, HistoryEvent[]> } {
  const parent = historyOf(env, workflowId);
  const children = new Map<string, HistoryEvent[]>();
  for (const e of parent) {
    const id = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution.workflowId;
    if (id && !children.has(id)) children.set(id, historyOf(env, id));
  }
  return { parent, children };
}

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` and `ActivityTaskScheduled` both count as `ActivityTaskScheduled`. */
export const typeOf = (e: HistoryEvent): string =>
  e.eventType.startsWith('EVENT_TYPE_')
    ? e.eventType
        .slice('EVENT_TYPE_'.length)
        .toLowerCase()
        .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())
    : e.eventType;

export const count = (events: HistoryEvent[], type: string) => events.filter((e) => typeOf(e) === type).length;
