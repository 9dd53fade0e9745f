import { z } from 'zod';
import { appSchema, environmentSchema, personSchema } from './requests';

/** The input of `freezeEnvironment`: who freezes which environment, and why. */
export const freezeRequestSchema = z.strictObject({
  app: appSchema,
  environment: environmentSchema,
  by: personSchema.describe('Who freezes (the CLI sets the OS user, or --by)'),
  reason: z.string().min(1, 'say why').max(2000, 'must be at most 2,000 characters').describe('Why: kept in the freeze, the memo and every rollout it holds'),
});
export type FreezeRequest = z.input<typeof freezeRequestSchema>;

/** A freeze as recorded: who and why, and who lifted it. */
export interface Freeze {
  by: string;
  reason: string;
  at: string;
  unfrozenBy?: string;
  unfrozenAt?: string;
}

/** `unfreeze` input. */
export interface UnfreezeRequest {
  by?: string;
}
