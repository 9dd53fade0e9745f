import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Approval, ApprovalRequest, Decision, ResumeRequest, RolloutProgress } from '../core/domain/plan';
import type { DeployStatus, HostProgress } from '../core/domain/requests';
import type { Freeze, UnfreezeRequest } from '../core/domain/freeze';

/** `temporal workflow query --type status`: the whole deploy, per host. */
export const statusQuery = defineQuery<DeployStatus>('status');

/** `temporal workflow query --type hostStatus` on a host's child workflow: the step it is at (the CLI's live view). */
export const hostStatusQuery = defineQuery<HostProgress>('hostStatus');

/** Sent by each hostDeploy child (recorded histories only; new children answer `hostStatus`) to its parent when it moves to another step. */
export const hostProgressSignal = defineSignal<[HostProgress]>('hostProgress');

/** `temporal workflow query --type progress`: the whole rollout (stage, batch, hosts, what it waits for, approvals). */
export const progressQuery = defineQuery<RolloutProgress>('progress');

/** Approves the gate the rollout waits at. The update is refused by its validator; the signal is recorded as refused. */
export const approveUpdate = defineUpdate<Approval, [ApprovalRequest]>('approve');
export const approveSignal = defineSignal<[ApprovalRequest]>('approve');

/** Rejects the gate the rollout waits at: the rollout ends as rejected, touching no further host. */
export const rejectUpdate = defineUpdate<Approval, [ApprovalRequest]>('reject');
export const rejectSignal = defineSignal<[ApprovalRequest]>('reject');

/** The operator's decision about failed hosts (retry, skip, rollback, abort), or `continue` after a pause. */
export const resumeUpdate = defineUpdate<Decision, [ResumeRequest]>('resume');
export const resumeSignal = defineSignal<[ResumeRequest]>('resume');

/** Stops the rollout before its next batch until `resume` with `continue`. */
export const pauseUpdate = defineUpdate<Decision, [{ by?: string }]>('pause');
export const pauseSignal = defineSignal<[{ by?: string }]>('pause');

/** Ends the bake the rollout is in now (`ferry promote`): the rollout goes on as if it had passed. */
export const promoteUpdate = defineUpdate<Decision, [{ by?: string }]>('promote');
export const promoteSignal = defineSignal<[{ by?: string }]>('promote');

/** Sent by `freezeEnvironment` to the rollout holding its environment: hold at the next batch until `unfreeze`. */
export const freezeSignal = defineSignal<[Freeze]>('freeze');
/** Ends a freeze: to `freezeEnvironment` (from `ferry unfreeze`), which passes it on to the rollout it holds. */
export const unfreezeSignal = defineSignal<[UnfreezeRequest]>('unfreeze');
/** `temporal workflow query --type freeze`: who froze the environment, when and why. */
export const freezeQuery = defineQuery<Freeze>('freeze');
