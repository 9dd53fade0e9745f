import { z } from 'zod';

/**
 * edeliver's hook functions that Ferry runs, in `.deliver/config` as bash functions (`pre_erlang_clean_compile() { ... }`).
 * Each runs on the host where its step happens: the build hooks on the build host, the deploy hooks on each target
 * host, `pre_erlang_update`/`post_erlang_update` on the build host before the build and after the deploy of `ferry update`.
 */
export const BUILD_HOOKS = [
  'pre_erlang_get_and_update_deps',
  'post_erlang_get_and_update_deps',
  'pre_erlang_clean_compile',
  'post_erlang_clean_compile',
  'pre_erlang_generate_release',
  'post_erlang_generate_release',
] as const;

export const HOST_HOOKS = [
  'pre_extract_release_archive',
  'post_extract_release_archive',
  'pre_upgrade_release',
  'post_upgrade_release',
  'pre_start_deployed_release',
  'post_start_deployed_release',
] as const;

export const UPDATE_HOOKS = ['pre_erlang_update', 'post_erlang_update'] as const;

export const HOOK_NAMES = [...BUILD_HOOKS, ...HOST_HOOKS, ...UPDATE_HOOKS] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** The text of each defined hook function, as `declare -f` prints it. Plain data: config, not a secret. */
export type Hooks = Partial<Record<HookName, string>>;

/** Longest hook function Ferry accepts (workflow input stays small). */
export const MAX_HOOK_LENGTH = 64 * 1024;

const hookText = z
  .string()
  .min(1)
  .max(MAX_HOOK_LENGTH, `a hook function may be at most ${MAX_HOOK_LENGTH} characters`)
  .refine((t) => !t.includes('\0'), 'must not contain NUL');

/** Hooks as workflows accept them: only the known names, each a bash function definition of that name. */
export const hooksSchema = z
  .partialRecord(z.enum(HOOK_NAMES), hookText)
  .superRefine((hooks, ctx) => {
    for (const [name, text] of Object.entries(hooks)) {
      if (text !== undefined && !new RegExp(`^(?:function\\s+)?${name}\\s*\\(\\)`).test(text.trimStart())) {
        ctx.addIssue({ code: 'custom', path: [name], message: `must be the bash function ${name} () { ... }` });
      }
    }
  })
  .optional();

/** The variables a hook sees, as edeliver defines them at that point (values already validated). */
export type HookVariables = Record<string, string>;

/** The build a build hook belongs to. */
export interface BuildHookContext {
  app: string;
  tool: 'rebar3' | 'mix';
  buildHost: { address: string; port: number; user: string };
  buildAt: string;
  revision: string;
  branch?: string;
  /** The version being built, when known (always after the release is generated). */
  version?: string;
}

/**
 * What a build hook sees, as edeliver sets it while building: DELIVER_TO is BUILD_AT, MIX_ENV and TARGET_MIX_ENV are
 * `prod` (Ferry builds the prod profile), BUILD_CMD and RELEASE_CMD name the tool, REVISION is the commit.
 */
export function buildHookVariables(c: BuildHookContext): HookVariables {
  return {
    APP: c.app,
    BUILD_HOST: c.buildHost.address,
    BUILD_USER: c.buildHost.user,
    BUILD_AT: c.buildAt,
    DELIVER_TO: c.buildAt,
    TARGET_MIX_ENV: 'prod',
    MIX_ENV: 'prod',
    BUILD_CMD: c.tool,
    RELEASE_CMD: c.tool,
    REVISION: c.revision,
    ...(c.branch !== undefined ? { BRANCH: c.branch } : {}),
    ...(c.version !== undefined ? { VERSION: c.version } : {}),
  };
}

/** The host step a deploy hook belongs to. */
export interface HostHookContext {
  app: string;
  host: { name: string; address: string; user: string; deployTo: string; nodeName?: string };
  environment?: string;
  version: string;
  /** Upgrades: the version the node runs before. */
  fromVersion?: string;
}

/**
 * What a deploy hook sees on its host: APP, VERSION, DELIVER_TO (the deploy root; the release is in $DELIVER_TO/$APP),
 * DEPLOY_ENVIRONMENT, and Ferry's per-host additions DEPLOY_HOST, DEPLOY_USER, NODE_NAME (Ferry's name for the node, when
 * it gives one) and FROM_VERSION (upgrades).
 */
export function hostHookVariables(c: HostHookContext): HookVariables {
  return {
    APP: c.app,
    VERSION: c.version,
    DELIVER_TO: c.host.deployTo,
    DEPLOY_HOST: c.host.name,
    DEPLOY_USER: c.host.user,
    ...(c.host.nodeName !== undefined ? { NODE_NAME: c.host.nodeName } : {}),
    ...(c.environment !== undefined ? { DEPLOY_ENVIRONMENT: c.environment } : {}),
    ...(c.fromVersion !== undefined ? { FROM_VERSION: c.fromVersion } : {}),
  };
}
