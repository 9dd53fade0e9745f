import { Context, log } from '@temporalio/activity';
import { runHook } from '../core/commands/hooks';
import { HookFailedError } from '../core/domain/errors';
import type { HookName, HookVariables } from '../core/domain/hooks';
import type { SshSettings, SshTarget } from '../core/domain/host';
import { authOf } from './ssh/auth';
import type { SshPool } from './ssh/ssh-pool';

/** One hook function to run on one host. */
export interface HookOnHost {
  host: SshTarget;
  name: HookName;
  /** The function's text, as `declare -f` printed it from `.deliver/config`. */
  text: string;
  vars: HookVariables;
  ssh?: SshSettings;
}

/** The end of what a hook printed (stdout and stderr interleaved as they arrived). */
export interface HookOutput {
  output: string;
}

/** `.deliver/config` hooks, each its own step on the host where its build or deploy step happens. */
export function hookActivities({ ssh }: { ssh: SshPool }) {
  return {
    /** Runs one hook through `bash -c` with its variables exported; a non-zero exit is HookFailedError with the output. */
    async runHook(t: HookOnHost): Promise<HookOutput> {
      let output = '';
      const r = await ssh.run(
        t.host,
        runHook(t.name, t.text, t.vars),
        { allowFailure: true, signal: Context.current().cancellationSignal, onOutput: (chunk) => (output = (output + chunk).slice(-16000)) },
        authOf(t.ssh),
      );
      if (r.exitCode !== 0) throw new HookFailedError(t.host.name, t.name, r.exitCode, output);
      log.info('hook ran', { host: t.host.name, hook: t.name });
      return { output: output.slice(-4000) };
    },
  };
}
