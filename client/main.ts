import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { FerryError, InputError } from '../core/domain/errors';
import { LIMITS } from '../core/domain/limits';
import type { NodeCommand } from '../core/domain/requests';
import type { VerbContext } from './verbs/common';
import type * as BuildVerbs from './verbs/build';
import type * as DeployVerbs from './verbs/deploy';
import type * as DoctorVerbs from './verbs/doctor';
import type * as FreezeVerbs from './verbs/freeze';
import type * as HistoryVerbs from './verbs/history';
import type * as NodeVerbs from './verbs/node';
import type * as RolloutVerbs from './verbs/rollout';
import type * as MigrateVerbs from './verbs/migrate';
import type * as StoreVerbs from './verbs/store';
import type * as TrustVerbs from './verbs/trust';
import type { Artifact } from './verbs/store';

/**
 * The commands' modules, loaded by the command that runs: `ferry --help` or a bad flag loads none of them (nor the
 * Temporal client, ssh2 or the AWS SDK they bring).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a command's modules load when it runs (also under tsx) */
const verbs = {
  build: async () => require('./verbs/build') as typeof BuildVerbs,
  deploy: async () => require('./verbs/deploy') as typeof DeployVerbs,
  doctor: async () => require('./verbs/doctor') as typeof DoctorVerbs,
  freeze: async () => require('./verbs/freeze') as typeof FreezeVerbs,
  history: async () => require('./verbs/history') as typeof HistoryVerbs,
  node: async () => require('./verbs/node') as typeof NodeVerbs,
  rollout: async () => require('./verbs/rollout') as typeof RolloutVerbs,
  migrate: async () => require('./verbs/migrate') as typeof MigrateVerbs,
  store: async () => require('./verbs/store') as typeof StoreVerbs,
  trust: async () => require('./verbs/trust') as typeof TrustVerbs,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The CLI's JSON log: stderr, or FERRY_LOG_FILE. People read stdout. */
const logger = pino(
  { name: 'ferry', level: process.env.FERRY_LOG_LEVEL ?? 'warn' },
  process.env.FERRY_LOG_FILE ? pino.destination({ dest: process.env.FERRY_LOG_FILE, mkdir: true, sync: true }) : pino.destination(2),
);

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',')];

/** A whole-number flag from `min` to `max`; anything else (`-1`, `1;id`, `1e3`, `0x10`, ``) is bad input (exit 2). */
const whole = (flag: string, min: number, max: number) => (text: string): number => {
  if (!/^\d{1,15}$/.test(text) || Number(text) < min || Number(text) > max) throw new InputError(`${flag}=${text}: give a whole number from ${min} to ${max}`);
  return Number(text);
};
/** Seconds as a decimal number (`2`, `0.5`), above 0 and at most `max`. */
const seconds = (flag: string, max: number) => (text: string): number => {
  if (!/^\d{1,15}(?:\.\d{1,9})?$/.test(text) || Number(text) <= 0 || Number(text) > max) throw new InputError(`${flag}=${text}: give a number of seconds above 0 and at most ${max}`);
  return Number(text);
};
const noise = (words: string[]) => words.filter((w) => w !== 'to' && w !== 'on');

/** The edeliver grammar: verbs, artifacts, noise words `to`/`on`, `--flag=value`. Each action reports an exit code. */
export function program(ctx: VerbContext, exit: (code: number) => void): Command {
  const p = new Command('ferry')
    .description('Durable build-and-deploy for Erlang/Elixir releases, on Temporal')
    .option('--config <file>', 'the edeliver config file (default: .deliver/config)')
    .option('--json', 'print machine-readable results')
    .showHelpAfterError()
    .exitOverride();
  const run = (fn: () => Promise<number>) => async () => exit(await fn());
  const globals = () => p.opts<{ config?: string; json?: boolean }>();

  p.command('build')
    .argument('<artifact>', 'release | upgrade')
    .description('build a release, or an upgrade (relup) from an old release, and keep it in the release store')
    .option('--branch <branch>', 'git branch to build')
    .option('--revision <rev>', 'git revision to build')
    .option('--tag <tag>', 'git tag to build')
    .option('--from <rev>', 'upgrade: git branch, tag or revision of the old release')
    .option('--to <rev>', 'upgrade: git branch, tag or revision of the new release (default HEAD)')
    .option('--with <version>', 'upgrade: take the old release from the store')
    .option('--verbose', 'stream the build output')
    .option('--skip-existing', 'do nothing when the store has a release built from the same revision')
    .option('--auto-version <parts>', 'append to the version: commit-count, commit-count-branch, git-revision, git-branch, branch-unless-master, build-date, build-time (join with +)')
    .option('--increment-version <part>', 'raise the declared version: patch, minor or major')
    .option('--set-version <version>', 'build this version instead of the declared one')
    .action(async (artifact: string, o: { from?: string; to?: string; with?: string; skipExisting?: boolean }) =>
      run(async () => {
        expect(artifact, ['release', 'upgrade'], 'build');
        if (artifact === 'upgrade' && o.skipExisting) throw new InputError('--skip-existing is for `ferry build release`');
        if (artifact === 'upgrade') return (await verbs.build()).buildUpgrade(ctx, { ...globals(), ...o });
        if (o.from !== undefined || o.to !== undefined || o.with !== undefined) throw new InputError('--from, --to and --with are for `ferry build upgrade`');
        return (await verbs.build()).build(ctx, { ...globals(), ...o });
      })(),
    );

  p.command('deploy')
    .argument('<words...>', 'release|upgrade [to] <environment>')
    .description('deploy a stored release, or hot-upgrade the nodes with a stored upgrade, on the hosts of an environment')
    .option('--version <version>', 'the version to deploy (required for a release; default for an upgrade: the newest one stored)')
    .option('--start-deploy', 'start or restart the nodes and verify the running version')
    .option('--host <host>', 'only this host (repeatable, or comma-separated)', collect)
    .addOption(new Option('--max-parallel <n>', 'hosts deployed at once').argParser(whole('--max-parallel', 1, 500)))
    .option('--run-migrations', 'upgrade: run MIGRATE_COMMAND once, before or after the upgrade (MIGRATE_WHEN)')
    .option('--hot-only', 'upgrade: when the preflight finds a hot upgrade unsafe, touch no node instead of restarting (UPGRADE_FALLBACK=refuse)')
    .action(async (words: string[], o: { runMigrations?: boolean; hotOnly?: boolean }) =>
      run(async () => {
        const [artifact = '', env, ...rest] = noise(words);
        expect(artifact, ['release', 'upgrade'], 'deploy');
        if (artifact === 'release' && o.runMigrations) throw new InputError('--run-migrations is for `ferry deploy upgrade`, `ferry update` and `ferry upgrade`; or run `ferry migrate <env>`');
        if (artifact === 'release' && o.hotOnly) throw new InputError('--hot-only is for `ferry deploy upgrade`, `ferry upgrade` and `ferry rollout --upgrade`: a release deploy restarts the nodes');
        if (artifact === 'upgrade') {
          if (!env || rest.length > 0) throw new InputError('usage: ferry deploy upgrade to <environment> [--version=V]');
          return (await verbs.deploy()).deployUpgrade(ctx, env, { ...globals(), ...o });
        }
        if (!env || rest.length > 0) throw new InputError('usage: ferry deploy release to <environment> --version=V');
        return (await verbs.deploy()).deploy(ctx, env, { ...globals(), ...o });
      })(),
    );

  p.command('update')
    .argument('<words...>', '[on] <environment>')
    .description('build a release, deploy it to an environment and verify every host')
    .option('--branch <branch>', 'git branch to build')
    .option('--revision <rev>', 'git revision to build')
    .option('--tag <tag>', 'git tag to build')
    .option('--start-deploy', 'start or restart the nodes and verify the running version')
    .option('--auto-version <parts>', 'append to the version built (see `ferry build --help`)')
    .option('--increment-version <part>', 'raise the declared version: patch, minor or major')
    .option('--set-version <version>', 'build this version instead of the declared one')
    .option('--host <host>', 'only this host (repeatable, or comma-separated)', collect)
    .option('--run-migrations', 'run MIGRATE_COMMAND once, before or after the deploy (MIGRATE_WHEN)')
    .action(async (words: string[], o: object) =>
      run(async () => {
        const [env, ...rest] = noise(words);
        if (!env || rest.length > 0) throw new InputError('usage: ferry update <environment> [--branch=B] [--start-deploy]');
        return (await verbs.deploy()).update(ctx, env, { ...globals(), ...o });
      })(),
    );

  p.command('upgrade')
    .argument('<words...>', '[on] <environment>')
    .description('hot-upgrade an environment from the version its running nodes agree on; stopped nodes get the full release')
    .option('--branch <branch>', 'git branch to upgrade to')
    .option('--revision <rev>', 'git revision to upgrade to')
    .option('--tag <tag>', 'git tag to upgrade to')
    .option('--auto-version <parts>', 'append to the version built (see `ferry build --help`)')
    .option('--increment-version <part>', 'raise the declared version: patch, minor or major')
    .option('--set-version <version>', 'build this version instead of the declared one')
    .option('--host <host>', 'only this host (repeatable, or comma-separated)', collect)
    .addOption(new Option('--max-parallel <n>', 'hosts upgraded at once').argParser(whole('--max-parallel', 1, 500)))
    .option('--run-migrations', 'run MIGRATE_COMMAND once, before or after the upgrade (MIGRATE_WHEN)')
    .option('--hot-only', 'when the preflight finds a hot upgrade unsafe, touch no node instead of restarting (UPGRADE_FALLBACK=refuse)')
    .action(async (words: string[], o: object) =>
      run(async () => {
        const [env, ...rest] = noise(words);
        if (!env || rest.length > 0) throw new InputError('usage: ferry upgrade <environment> [--branch=B | --tag=T | --revision=R]');
        return (await verbs.deploy()).upgradeEnvironment(ctx, env, { ...globals(), ...o });
      })(),
    );

  for (const command of ['start', 'stop', 'restart', 'ping', 'version'] as NodeCommand[]) {
    const c = p
      .command(command)
      .argument('<environment>')
      .description(`${command} the node on every host of an environment`)
      .option('--host <host>', 'only this host (repeatable, or comma-separated)', collect);
    if (command === 'ping') c.option('--cluster', 'show which nodes each node is connected to; fail when one misses another');
    c.action(async (env: string, o: { cluster?: boolean }) =>
      run(async () => (await verbs.node()).nodeVerb(ctx, o.cluster ? 'cluster' : command, env, { ...globals(), ...o }))(),
    );
  }

  p.command('migrate')
    .argument('<words...>', '[on] <environment> [up|down]')
    .description('run the migrations (MIGRATE_COMMAND), or roll them back to --version (MIGRATE_DOWN_COMMAND), on one running node')
    .option('--version <n>', 'up: migrate up to this version; down: go back to this version (0 reverts all)')
    .option('--host <host>', 'only these hosts are candidates (the first that answers ping runs it)', collect)
    .action(async (words: string[], o: { version?: string; host?: string[] }) =>
      run(async () => {
        const [env, direction = 'up', ...rest] = noise(words);
        if (!env || rest.length > 0 || (direction !== 'up' && direction !== 'down')) {
          throw new InputError('usage: ferry migrate <environment> [up|down] [--version=N]');
        }
        return (await verbs.migrate()).migrateVerb(ctx, env, direction, { ...globals(), ...o });
      })(),
    );

  p.command('doctor')
    .argument('[environment]', 'only this environment (default: every one)')
    .description('check Temporal, the worker, the build host and every host, with the fix for each failure')
    .action(async (env: string | undefined) => run(async () => (await verbs.doctor()).doctorVerb(ctx, env, globals()))());

  p.command('trust')
    .argument('<environment>')
    .description("show each host's key fingerprint and add new ones to known_hosts after confirmation")
    .option('--yes', 'add without asking (for scripts; check the fingerprints first)')
    .option('--build', 'the build host too')
    .action(async (env: string, o: object) => run(async () => (await verbs.trust()).trust(ctx, env, { ...globals(), ...o }))());

  p.command('rollout')
    .argument('[words...]', '[to] <environment>... (stages, in order; the last one holds the environment lock)')
    .description('deploy a stored release in stages and batches, with approvals and a failure policy')
    .option('--version <version>', 'the release version to roll out')
    .option('--host <host>', 'only these hosts of the last environment (repeatable, or comma-separated)', collect)
    .addOption(new Option('--canary <n>', 'hosts in the first batch (default <ENV>_CANARY, else 0)').argParser(whole('--canary', 0, LIMITS.hosts)))
    .option('--ramp <sizes>', 'batch sizes after the canary, e.g. 1,2,25% (default <ENV>_RAMP)', collect)
    .option('--batch <size>', 'size of every later batch: a count or a percentage (default <ENV>_BATCH, else all)')
    .addOption(new Option('--pause <seconds>', 'wait between batches (default <ENV>_PAUSE)').argParser(whole('--pause', 0, LIMITS.waitSeconds)))
    .addOption(new Option('--max-failures <n>', 'failed hosts tolerated before an operator decides (default 0)').argParser(whole('--max-failures', 0, LIMITS.hosts)))
    .option('--require-approval', 'ask for approval after the canary (or before the stage without one), as <ENV>_REQUIRE_APPROVAL=true')
    .option('--approve-before', 'ask for approval before each stage')
    .addOption(new Option('--approval-timeout <seconds>', 'reject when no approval comes in time').argParser(whole('--approval-timeout', 1, LIMITS.waitSeconds)))
    .option('--no-start-deploy', 'do not start or restart the nodes (and skip the health check)')
    .option('--upgrade', 'hot-upgrade each host with the stored upgrade to --version (rollback is a downgrade)')
    .option('--hot-only', 'with --upgrade: when the preflight finds a hot upgrade unsafe, touch no host instead of restarting (UPGRADE_FALLBACK=refuse)')
    .option('--min-healthy <size>', 'hosts (count or percentage) that must not fail (default <ENV>_MIN_HEALTHY)')
    .addOption(new Option('--on-failure <policy>', 'past the failure limit (default <ENV>_ON_FAILURE, else halt)').choices(['halt', 'rollback-batch', 'rollback-stage']))
    .addOption(new Option('--after-rollback <then>', 'after a policy rollback: wait for an operator or end (default wait)').choices(['wait', 'end']))
    .option('--health-command <command>', 'run on each host after it is deployed, in the deploy root; exit 0 is healthy (default <ENV>_HEALTH_COMMAND)')
    .option('--health-url <url>', 'GET from the worker after each host; {host} is its address (default <ENV>_HEALTH_URL)')
    .addOption(new Option('--health-status <code>', 'the status --health-url must answer (default 200)').argParser(whole('--health-status', 100, 599)))
    .addOption(new Option('--health-retries <n>', 'health tries after the first failed one (default 3)').argParser(whole('--health-retries', 0, 100)))
    .addOption(new Option('--health-interval <seconds>', 'between health tries (default 2)').argParser(seconds('--health-interval', 3600)))
    .addOption(new Option('--health-timeout <seconds>', 'one health try at most (default 10)').argParser(seconds('--health-timeout', 600)))
    .option('--bake <duration>', 'after the canary and after each stage, keep checking the hosts this long, e.g. 15m (default <ENV>_BAKE)')
    .option('--bake-interval <duration>', 'between two rounds of bake checks (default <ENV>_BAKE_INTERVAL, else 1m)')
    .option('--bake-eval <expression>', 'an Erlang expression each node must return true or ok for during the bake (default <ENV>_BAKE_EVAL)')
    .option('--plan-file <file>', 'start this JSON plan instead of building one from the config')
    .option('--print-plan', 'print the JSON plan and start nothing')
    .option('--wait', 'keep following while the rollout waits for an approval or an operator')
    .action(async (words: string[], o: { requireApproval?: boolean }) =>
      run(async () => (await verbs.rollout()).rolloutVerb(ctx, noise(words), { ...globals(), ...o, approve: o.requireApproval }))(),
    );

  for (const decision of ['approve', 'reject'] as const) {
    p.command(decision)
      .argument('<environment>')
      .description(`${decision} the gate the rollout of an environment waits at`)
      .option('--comment <text>', 'why; kept with the decision')
      .option('--by <name>', 'who decides (default: the OS user)')
      .action(async (env: string, o: object) => run(async () => (await verbs.rollout()).approvalVerb(ctx, decision, env, { ...globals(), ...o }))());
  }

  p.command('resume')
    .argument('<environment>')
    .description('decide about failed hosts (--retry, --skip, --rollback, --abort), or go on after `ferry pause`')
    .option('--retry', 'deploy the failed hosts (or --host) again')
    .option('--skip', 'leave the failed hosts (or --host) behind and go on')
    .option('--rollback', 'return every touched host (or --host) to its previous version')
    .option('--abort', 'end the rollout here')
    .option('--host <host>', 'only this host')
    .option('--by <name>', 'who decides (default: the OS user)')
    .action(async (env: string, o: object) => run(async () => (await verbs.rollout()).resumeVerb(ctx, env, { ...globals(), ...o }))());

  p.command('rollback')
    .argument('<environment>')
    .description('return the hosts of the last change to the release they ran before it (a hot downgrade after a hot upgrade), as a rollout')
    .action(async (env: string) => run(async () => (await verbs.rollout()).rollbackVerb(ctx, env, globals()))());

  p.command('promote')
    .argument('<environment>')
    .description('end the bake the rollout of an environment is in now, and go on')
    .option('--by <name>', 'who promotes (default: the OS user)')
    .action(async (env: string, o: object) => run(async () => (await verbs.rollout()).promoteVerb(ctx, env, { ...globals(), ...o }))());

  p.command('freeze')
    .argument('<environment>')
    .description('refuse new changes to an environment and hold its running rollout before its next batch, until unfreeze')
    .option('--reason <text>', 'why (required); kept with who froze it')
    .option('--by <name>', 'who freezes (default: the OS user)')
    .action(async (env: string, o: object) => run(async () => (await verbs.freeze()).freezeVerb(ctx, env, { ...globals(), ...o }))());

  p.command('unfreeze')
    .argument('<environment>')
    .description('lift the freeze of an environment; a rollout it held goes on')
    .option('--by <name>', 'who unfreezes (default: the OS user)')
    .action(async (env: string, o: object) => run(async () => (await verbs.freeze()).unfreezeVerb(ctx, env, { ...globals(), ...o }))());

  p.command('pause')
    .argument('<environment>')
    .description('stop the rollout of an environment before its next batch')
    .option('--by <name>', 'who pauses (default: the OS user)')
    .action(async (env: string, o: object) => run(async () => (await verbs.rollout()).pauseVerb(ctx, env, { ...globals(), ...o }))());

  p.command('status')
    .argument('<environment>')
    .description('show the rollout or deploy of an environment')
    .option('--watch', 'follow it until it ends')
    .action(async (env: string, o: object) => run(async () => (await verbs.rollout()).statusVerb(ctx, env, { ...globals(), ...o }))());

  p.command('history')
    .argument('[environment]', 'only runs to this environment')
    .description("list the app's past and running deploys, updates, upgrades and rollouts (from Temporal's visibility), newest first")
    .option('--version <version>', 'only runs of this version')
    .option('--limit <n>', 'at most this many (default 20)', whole('--limit', 1, 1000))
    .action(async (env: string | undefined, o: { version?: string; limit?: number }) => run(async () => (await verbs.history()).historyVerb(ctx, env, { ...globals(), ...o }))());

  p.command('show')
    .argument('<what>', 'releases | appups | relup | upgrade-plan | migrations')
    .argument('[version]', 'appups, relup: the upgrade version; migrations: the environment')
    .description('list what the release store holds, the appups, relup or plan of an upgrade, or the migrations of an environment')
    .option('--from <version>', 'upgrade-plan: the version the upgrade goes from')
    .option('--to <version>', 'upgrade-plan: the version the upgrade goes to')
    .action(async (what: string, version: string | undefined, o: { from?: string; to?: string }) =>
      run(async () => {
        if (what !== 'migrations') return (await verbs.store()).show(ctx, what, version, { ...globals(), ...o });
        if (version === undefined) throw new InputError('usage: ferry show migrations <environment>');
        return (await verbs.migrate()).migrateVerb(ctx, version, 'status', globals());
      })(),
    );

  p.command('upload')
    .argument('<artifact>', 'release | upgrade')
    .argument('<version>', 'the release version')
    .argument('[file]', 'the tarball (default: <app>_<version>.<artifact>.tar.gz here)')
    .description('put a release or upgrade tarball into the release store, with its manifest')
    .action(async (artifact: string, v: string, file: string | undefined) =>
      run(async () => {
        expect(artifact, ['release', 'upgrade'], 'upload');
        return (await verbs.store()).upload(ctx, artifact as Artifact, v, file, globals());
      })(),
    );

  p.command('download')
    .argument('<artifact>', 'release | upgrade')
    .argument('<version>', 'the release version')
    .argument('[file]', 'where to write it (default: <app>_<version>.<artifact>.tar.gz here)')
    .description('copy a release or upgrade from the release store to a local file, verifying its sha256')
    .action(async (artifact: string, v: string, file: string | undefined) =>
      run(async () => {
        expect(artifact, ['release', 'upgrade'], 'download');
        return (await verbs.store()).download(ctx, artifact as Artifact, v, file, globals());
      })(),
    );

  p.command('prune')
    .argument('[environment]', 'prune old releases on the hosts of this environment instead of the store')
    .description('remove all but the newest N releases: from the release store, or under releases/ on the hosts of an environment (never the running one)')
    .requiredOption('--keep <n>', 'how many releases to keep (newest by version)', whole('--keep', 1, 1000))
    .option('--host <host>', 'only this host (repeatable, or comma-separated)', collect)
    .action(async (env: string | undefined, o: { keep: number; host?: string[] }) =>
      run(async () => (env === undefined ? (await verbs.store()).pruneStore(ctx, o.keep, globals()) : (await verbs.node()).pruneHosts(ctx, env, o.keep, { ...globals(), host: o.host })))(),
    );

  p.addHelpText('after', '\nAlso: `ferry worker` runs a Ferry worker (polls the `ferry` task queue until SIGINT/SIGTERM).');
  return p;
}

function expect(word: string, allowed: string[], verb: string): void {
  if (!allowed.includes(word)) throw new InputError(`ferry ${verb} ${word}: unknown artifact; use ${allowed.map((a) => `\`ferry ${verb} ${a}\``).join(' or ')}`);
}

/** Runs one command line; InputError prints `ferry: <message>` and exits 2, anything else is logged and exits 1. */
export async function main(argv: string[]): Promise<number> {
  const ctx: VerbContext = { out: process.stdout, err: process.stderr, cwd: process.cwd(), env: process.env };
  let code = 0;
  try {
    await program(ctx, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof InputError || (err instanceof FerryError && err.name === 'InputError')) {
      process.stderr.write(`ferry: ${err.message}\n`);
      return 2;
    }
    return internalError(err);
  }
}

/** Logs an unexpected error with its stack (never on stdout) and prints one line without it: exit 1. */
function internalError(err: unknown): number {
  logger.error({ err }, 'internal error');
  process.stderr.write(`ferry: internal error: ${(err as Error).message} (details in ${process.env.FERRY_LOG_FILE ?? 'the log on stderr'})\n`);
  return 1;
}

/**
 * The `ferry` process: runs `main`, then ends with its exit code once stdout and stderr are flushed, so that nothing a
 * command leaves behind (a gRPC retry timer of a closed Temporal connection) can print a stack trace, change the exit
 * code or keep the process alive. An error that escapes anyway is reported as an internal error.
 */
export function cli(argv: string[]): void {
  const end = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  process.on('uncaughtException', (err) => end(internalError(err)));
  process.on('unhandledRejection', (err) => end(internalError(err)));
  void main(argv).then(end);
}

if (require.main === module) cli(process.argv.slice(2));
