import { z } from 'zod';
import { InputError } from './errors';
import { appSchema, environmentSchema, hostsSchema, sshSettingsSchema } from './requests';
export { migrationStepSchema, type MigrationStep } from './requests';

/**
 * Migrations: a release command (an Elixir or Erlang expression the release's `bin/<app> eval` runs) on one healthy
 * node. Expressions come from `.deliver/config`; `{version}` is the only placeholder and is filled with a validated
 * number, so nothing a user types on the command line reaches the host except digits.
 */

/** The placeholder a migration expression may hold: the target version of `--version=N`. */
export const VERSION_PLACEHOLDER = '{version}';

/** Migration versions are numbers (1, 2, ... or timestamps like Ecto's 20240101120000). */
export function migrationVersion(text: string, what = '--version'): string {
  if (!/^\d{1,20}$/.test(text)) throw new InputError(`${what}=${text}: a migration version is a whole number like 3 or 20240101120000`);
  return text.replace(/^0+(?=\d)/, '');
}

/**
 * The expression with `{version}` replaced: by the version, or by nothing when none is given, so that
 * `HelloMix.Release.migrate({version})` calls `migrate()` and `migrate(3)`. A version for an expression without the
 * placeholder is refused rather than ignored.
 */
export function fillVersion(template: string, version: string | undefined, variable: string): string {
  if (version !== undefined && !template.includes(VERSION_PLACEHOLDER)) {
    throw new InputError(`${variable} has no ${VERSION_PLACEHOLDER} placeholder, so it cannot take --version=${version}: add it where the version goes`);
  }
  return template.replaceAll(VERSION_PLACEHOLDER, version ?? '');
}

/** `hello_mix` -> `HelloMix`: the Elixir module prefix mix gives an app. */
export const elixirModule = (app: string): string => app.split('_').map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')).join('');

/** The migration commands of an app: from `.deliver/config`, else (mix only) `<App>.Release.migrate/rollback/status`. */
export interface MigrationCommands {
  /** MIGRATE_COMMAND: runs pending migrations; `{version}` (optional) is the target of `--version=N`. */
  up?: string;
  /** MIGRATE_DOWN_COMMAND: rolls back to `{version}` (required placeholder). */
  down?: string;
  /** MIGRATIONS_STATUS_COMMAND: prints what is applied; read-only. */
  status?: string;
  /** MIGRATE_WHEN: with `--run-migrations`, before or after the code change (default after). */
  when: 'before' | 'after';
}

/** The defaults for a mix app: `<App>.Release.migrate({version})`, `rollback({version})`, `status()`. relx has none. */
export function defaultMigrationCommands(app: string, tool: 'rebar3' | 'mix'): Omit<MigrationCommands, 'when'> {
  if (tool !== 'mix') return {};
  const m = elixirModule(app);
  return { up: `${m}.Release.migrate(${VERSION_PLACEHOLDER})`, down: `${m}.Release.rollback(${VERSION_PLACEHOLDER})`, status: `${m}.Release.status()` };
}

export const migrationDirectionSchema = z.enum(['up', 'down', 'status']);
export type MigrationDirection = z.infer<typeof migrationDirectionSchema>;

export const migrationExpressionSchema = z
  .string()
  .min(1, 'is empty')
  .max(4000, 'is longer than 4000 characters')
  .refine((s) => !s.includes('\0'), 'cannot contain NUL');

/** The `migrate` workflow's input: run `expression` with `bin/<app> eval` on the first host whose node answers ping. */
export const migrateRequestSchema = z.strictObject({
  app: appSchema,
  environment: environmentSchema,
  hosts: hostsSchema,
  direction: migrationDirectionSchema.default('up'),
  /** The expression, `{version}` already filled in. */
  expression: migrationExpressionSchema,
  /**
   * The key of the host-side record that makes the run happen once (`up`/`down` only): default the migrate workflow's
   * own id and run id. A workflow that runs migrations as one of its steps passes its own, stable across its retries.
   */
  runKey: z.string().regex(/^[A-Za-z0-9._@-]{1,200}$/, 'must be letters, digits and . _ @ - (at most 200)').optional(),
  ssh: sshSettingsSchema,
});
export type MigrateRequest = z.input<typeof migrateRequestSchema>;

/** What a migration run did: where, what, and what it printed. */
export interface MigrateResult {
  environment: string;
  direction: MigrationDirection;
  /** The host it ran on: the first whose node answered ping. */
  host: string;
  expression: string;
  /** What the command printed (the last 8000 characters). */
  output: string;
  /** True when an earlier attempt of the same run had finished and its recorded output is returned, not run again. */
  recorded?: boolean;
}

/** A host-side record key from a workflow id and run id: characters outside `[A-Za-z0-9._@-]` become `_`. */
export const runKeyOf = (workflowId: string, runId: string): string => `${workflowId}@${runId}`.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 200);
