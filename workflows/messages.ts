import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeployStatus, HostProgress } from '../core/domain/requests';

/** `temporal workflow query --type status`: the whole deploy, per host. */
export const statusQuery = defineQuery<DeployStatus>('status');

/** Sent by each hostDeploy child to its parent when it moves to another step. */
export const hostProgressSignal = defineSignal<[HostProgress]>('hostProgress');
