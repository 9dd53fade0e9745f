// `npm run build` (and `npm pack` through `prepack`): the compiled JavaScript under dist/, the workflow bundle the
// installed worker loads (dist/workflow-bundle.js: no bundling, no TypeScript at run time) and the files the
// activities read at run time.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const dist = join(root, 'dist');
  const { code } = await bundleWorkflowCode({ workflowsPath: join(dist, 'workflows', 'index.js'), workflowInterceptorModules: [join(dist, 'workflows', 'metrics-interceptor.js')], logger: new DefaultLogger('WARN') });
  writeFileSync(join(dist, 'workflow-bundle.js'), code);
  cpSync(join(root, 'activities', 'erlang'), join(dist, 'activities', 'erlang'), { recursive: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
