import { condition, getExternalWorkflowHandle, log, setHandler, upsertMemo } from '@temporalio/workflow';
import { workflowIds } from '../core/domain/constants';
import { freezeRequestSchema, type Freeze, type FreezeRequest } from '../core/domain/freeze';
import { validInput } from './failures';
import { freezeQuery, freezeSignal, unfreezeSignal } from './messages';

/**
 * A freeze of one environment (`ferry freeze <env> --reason=...`), running until `unfreeze`: while it runs, the CLI
 * refuses new changes there, and the rollout holding the environment lock is told to hold before its next batch
 * (and told again to go on when it ends). Who and why are in its input, memo, `freeze` query and result.
 */
export async function freezeEnvironment(input: FreezeRequest): Promise<Freeze> {
  const req = validInput(freezeRequestSchema, input, 'freezeEnvironment');
  const freeze: Freeze = { by: req.by, reason: req.reason, at: new Date().toISOString() };
  let lifted = false;
  setHandler(freezeQuery, () => freeze);
  setHandler(unfreezeSignal, (u) => {
    if (lifted) return;
    lifted = true;
    freeze.unfrozenBy = typeof u?.by === 'string' && u.by.trim() !== '' ? u.by.slice(0, 200) : 'an operator';
    freeze.unfrozenAt = new Date().toISOString();
  });
  upsertMemo({ freeze });
  const lock = getExternalWorkflowHandle(workflowIds.environment(req.app, req.environment));
  // No rollout running is the usual case: the signal then has nowhere to go.
  await lock.signal(freezeSignal, freeze).catch(() => undefined);
  log.info('environment frozen', { environment: req.environment, by: req.by, reason: req.reason });
  await condition(() => lifted);
  await lock.signal(unfreezeSignal, { by: freeze.unfrozenBy }).catch(() => undefined);
  upsertMemo({ freeze });
  log.info('environment unfrozen', { environment: req.environment, by: freeze.unfrozenBy });
  return freeze;
}
