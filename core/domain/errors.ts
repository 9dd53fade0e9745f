/** Base of every error Ferry throws on purpose. `name` is the class name, which Temporal
 *  copies into `ApplicationFailure.type` when an activity throws it. */
export abstract class FerryError extends Error {
  override readonly name: string = this.constructor.name;
}

/** Bad config, flag or argument. Never retried; the CLI prints it without a stack. */
export class InputError extends FerryError {}

/** The host's key is not in known_hosts, or differs from it. Never retried: a person must decide. */
export class HostKeyError extends FerryError {
  constructor(
    readonly host: string,
    readonly reason: 'unknown' | 'mismatch',
    readonly knownHostsFile: string,
  ) {
    super(
      reason === 'unknown'
        ? `${host}: host key is not in ${knownHostsFile} (strict host key checking); add the host's key to it after checking its fingerprint`
        : `${host}: host key does not match ${knownHostsFile}: the host was reinstalled or someone is intercepting the connection; fix the entry by hand after checking`,
    );
  }
}

/** Login refused (no key accepted). Never retried. */
export class AuthenticationError extends FerryError {}

/** Connection refused, timed out or dropped. Retryable: the policy backs off. */
export class HostUnreachableError extends FerryError {}

/** A remote command exited non-zero. Data on the error, message built once. */
export class RemoteCommandError extends FerryError {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${host}: \`${shorten(command)}\` exited with ${exitCode ?? 'a signal'}${output ? `: ${tail(output)}` : ''}`);
  }
}

/**
 * A remote command or transfer did not finish in its time: the `timeout` a command runs under (exit 124), or the
 * step's own time limit. Retryable: a host under load may answer the next attempt; steps that change a host turn it
 * into a non-retryable failure themselves.
 */
export class CommandTimedOutError extends FerryError {
  constructor(
    readonly host: string,
    readonly seconds: number,
    readonly waitedFor: string,
  ) {
    super(`${host}: timed out after ${seconds} s waiting for ${waitedFor}`);
  }
}

/** The node did not answer or runs another version yet. Retryable: it may still be booting. */
export class NodeNotReadyError extends FerryError {}

/** A health command or HTTP probe said "unhealthy". Retryable: the rollout's probe policy decides how often. */
export class HealthCheckFailedError extends FerryError {}

/** The requested version is not in the release store. Never retried. */
export class VersionNotInStoreError extends FerryError {}

/** A file's sha256 is not the one the manifest records. Retryable: the transfer is redone. */
export class ChecksumMismatchError extends FerryError {}

/** A stored artifact's bytes do not match its manifest: the store itself is damaged. Never retried. */
export class CorruptReleaseError extends FerryError {}

/** A `.deliver/config` hook function exited non-zero: its step fails with the hook's output. Never retried. */
export class HookFailedError extends FerryError {
  constructor(
    readonly host: string,
    readonly hook: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${host}: hook ${hook} exited with ${exitCode ?? 'a signal'}${output.trim() ? `:\n${tail(output, 20)}` : ' and printed nothing'}`);
  }
}
/** The host has too little free space where the release goes. Never retried: someone must free space first. */
export class DiskFullError extends FerryError {}
/** Another run holds a host's migration lock. Never retried: the message names the holder. */
export class MigrationLockedError extends FerryError {}

/** Failure types that a retry cannot fix: the activity retry policy stops on them. */
export const NON_RETRYABLE = [
  'InputError',
  'HostKeyError',
  'AuthenticationError',
  'RemoteCommandError',
  'VersionNotInStoreError',
  'CorruptReleaseError',
  'HookFailedError',
  'DiskFullError',
  'MigrationLockedError',
] as const;

/** A value as a message quotes it: JSON-quoted (a newline shows as \\n), and cut after `max` characters. */
export const shown = (value: string, max = 80): string =>
  value.length <= max ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;

const shorten = (s: string): string => (s.length > 160 ? `${s.slice(0, 157)}...` : s);

/** The last lines of a command's output, which usually say what went wrong. */
export function tail(output: string, lines = 8): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}
