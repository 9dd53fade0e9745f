import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';

const ROOT = join(__dirname, '..');
/** What goes into the bundle: the workflow code, the pure core it imports, and the locked SDK versions. */
const SOURCES = [join(ROOT, 'workflows'), join(ROOT, 'core')];
const LOCK = join(ROOT, 'package-lock.json');
/** Bundles of other sources older than this are removed when a new one is written (a running worker read its own long ago). */
const STALE_MS = 24 * 3600_000;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
    .sort();
}

/** A digest of every source file of the bundle (path and content) and of package-lock.json. */
export function workflowSourceDigest(): string {
  const hash = createHash('sha256');
  for (const file of [...SOURCES.flatMap(filesUnder), ...(existsSync(LOCK) ? [LOCK] : [])]) {
    hash.update(`${relative(ROOT, file)}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle for `Worker.create` and replays. Bundling takes seconds, so the bundle is kept in
 * FERRY_CACHE_DIR (default `.ferry/cache` of this checkout) under the digest of its sources: a worker restarted on the
 * same code starts at once, and any change to a workflow, to core/ or to the locked packages makes a new bundle (and
 * removes the bundles of other sources older than a day). Where the cache cannot be written, the bundle is made in
 * memory on every start.
 */
export async function workflowBundle(): Promise<WorkflowBundleOption> {
  // The installed package (compiled JavaScript, `npm run build`) ships its bundle: nothing is bundled at run time.
  const shipped = join(ROOT, 'workflow-bundle.js');
  if (existsSync(shipped)) return { codePath: shipped };
  const dir = process.env.FERRY_CACHE_DIR || join(ROOT, '.ferry', 'cache');
  const file = join(dir, `workflow-bundle-${workflowSourceDigest()}.js`);
  if (existsSync(file)) return { codePath: file };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: [require.resolve('../workflows/metrics-interceptor')] });
  try {
    mkdirSync(dir, { recursive: true });
    // A temp name, then a rename: a worker starting at the same time never reads half a bundle.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
    for (const old of readdirSync(dir)) {
      const path = join(dir, old);
      if (/^workflow-bundle-[0-9a-f]{16}\.js$/.test(old) && path !== file && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    }
  } catch {
    // read-only checkout: bundle again next time
  }
  return { code };
}
