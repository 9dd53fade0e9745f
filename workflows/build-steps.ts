import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, BuildOutput, BuiltRelease, BuildTarget, Resolved } from '../activities';
import { BUILD_HOOKS, buildHookVariables, type HookName, type Hooks, type HookVariables } from '../core/domain/hooks';
import { changesVersion, nextVersion, type Versioning } from '../core/domain/versioning';
import { validated } from './failures';
import { runHookIfDefined } from './hooks';
import { BUILD, LOCAL } from './policies';

const local = proxyActivities<Activities>(LOCAL);
const builder = proxyActivities<Activities>(BUILD);

/** What a build needs besides the target: where the sources are, the hooks, the versioning flags. */
export interface BuildInput {
  projectDir: string;
  ref: string;
  hooks?: Hooks;
  versioning?: Versioning;
}

/**
 * Builds `resolved.revision` on the build host. Without build hooks and versioning flags this is one step. Otherwise
 * edeliver's steps, each its own activity: checkout (and the version rewrite), fetch deps, compile, generate the
 * release, with `pre_`/`post_` hooks around each on the build host.
 */
export async function compileOnBuildHost(
  target: BuildTarget,
  req: BuildInput,
  resolved: Resolved,
  opts: { cleanReleaseDir?: boolean } = {},
): Promise<BuiltRelease & { output: BuildOutput }> {
  const hooks = req.hooks ?? {};
  const withHooks = BUILD_HOOKS.some((h) => hooks[h] !== undefined);
  let declared: string | undefined;
  let setVersion: { from: string; to: string } | undefined;
  if (changesVersion(req.versioning)) {
    declared = (await local.readVersionAt({ projectDir: req.projectDir, revision: resolved.revision, app: target.app, tool: target.tool })).version;
    if (declared === undefined) {
      const file = target.tool === 'mix' ? 'mix.exs (version: "x.y.z")' : `rebar.config ({release, {${target.app}, "x.y.z"}, ...})`;
      throw ApplicationFailure.nonRetryable(`${req.ref}: cannot read the version ${file} declares, so the versioning flags cannot change it`, 'InputError');
    }
    const facts = req.versioning!.auto?.length
      ? await local.versionFacts({ projectDir: req.projectDir, revision: resolved.revision, branch: resolved.branch })
      : undefined;
    const to = validated(() => nextVersion(declared!, req.versioning!, facts));
    if (to !== declared) setVersion = { from: declared, to };
  }
  if (!withHooks && !setVersion) return builder.compileRelease({ ...target, revision: resolved.revision, ...opts });

  const vars = buildHookVariables({ ...target, ...resolved, version: setVersion?.to ?? declared });
  const hook = (name: HookName, extra: HookVariables = {}) => runHookIfDefined(hooks, name, target.buildHost, { ...vars, ...extra }, target.ssh);
  const step = (steps: ('checkout' | 'deps' | 'compile')[]) => builder.prepareBuild({ ...target, revision: resolved.revision, steps, ...(setVersion ? { setVersion } : {}) });
  await step(['checkout']);
  await hook('pre_erlang_get_and_update_deps');
  await step(['deps']);
  await hook('post_erlang_get_and_update_deps');
  await hook('pre_erlang_clean_compile');
  await step(['compile']);
  await hook('post_erlang_clean_compile');
  await hook('pre_erlang_generate_release');
  const built = await builder.compileRelease({ ...target, revision: resolved.revision, ...opts, prepared: true });
  await hook('post_erlang_generate_release', { VERSION: built.version });
  return built;
}
