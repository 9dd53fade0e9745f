/**
 * Every workflow type Ferry registers. Everything reachable from here is replayed: it must stay deterministic,
 * and changing its behaviour under running workflows needs `patched()` (see the README's upgrade notes).
 */
export { buildRelease } from './build-release';
export { deployRelease } from './deploy-release';
export { hostDeploy } from './host-deploy';
export { nodeCommand } from './node-command';
export { updateRelease } from './update-release';
export { pruneReleases } from './prune-releases';
export { rollout } from './rollout';
export { buildUpgrade } from './build-upgrade';
export { deployUpgrade } from './deploy-upgrade';
export { hostUpgrade } from './host-upgrade';
export { upgradeEnvironment } from './upgrade-environment';
export { migrate } from './migrate';
export { freezeEnvironment } from './freeze';
