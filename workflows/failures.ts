import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { InputError } from '../core/domain/errors';
import { LIMITS } from '../core/domain/limits';
import { parseRequest } from '../core/domain/requests';

/** The Ferry error name behind an activity or child failure ('HostKeyError', ...), if there is one. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure || err instanceof ChildWorkflowFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** The innermost message of a failure chain: what a person needs to read. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs request validation. Whatever it throws becomes a non-retryable InputError: an error thrown in workflow code
 * would otherwise fail the workflow task, which Temporal retries for ever on the same input.
 */
export function validated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    throw ApplicationFailure.nonRetryable(err instanceof InputError ? err.message : `invalid input: ${failureMessage(err)}`, 'InputError');
  }
}

/**
 * A workflow's input, parsed by its schema before anything else, or a non-retryable InputError naming every bad field.
 * The workflow's own id is checked too: its children's ids add up to 500 characters to it, and Temporal refuses a
 * child id past 1,000 in a way that fails the parent's workflow task for ever.
 */
export function validInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  return validated(() => {
    const id = workflowInfo().workflowId;
    if (id.length > LIMITS.workflowId) {
      throw new InputError(`${what}: the workflow id is ${id.length} characters long; start it under an id of at most ${LIMITS.workflowId}`);
    }
    return parseRequest(schema, input, what);
  });
}

/**
 * A host child's failure as it ends the child: its type and message, with the step it failed at in its details. Host
 * children no longer signal each step to their parent (docs/scale.md); the parent reads the step from here.
 */
export function stepFailure(err: unknown, step: string): unknown {
  if (isCancellation(err)) return err;
  return ApplicationFailure.create({ type: failureType(err) ?? 'HostStepFailed', message: failureMessage(err), nonRetryable: true, details: [{ step }] });
}

/** The step a host child failed at, from its failure's details (see `stepFailure`); undefined for other failures. */
export function failedStep<S extends string>(err: unknown): S | undefined {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as { step?: unknown } | undefined) : undefined;
  return typeof details?.step === 'string' ? (details.step as S) : undefined;
}
