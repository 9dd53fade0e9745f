import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setVersion } from '../../../core/commands/build';
import { toShell } from '../../../core/commands/shell';
import { project } from '../../support/project';

// build.setVersion's perl, run through a real `sh -c` on temp files, as the build host runs it after a checkout.

function run(dir: string, tool: 'rebar3' | 'mix', from: string, to: string) {
  const r = spawnSync('sh', ['-c', toShell(setVersion(tool, 'hello', from, to))], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');
const app = (name: string, vsn: string) => `{application, ${name}, [\n    {description, "x"},\n    {vsn, "${vsn}"},\n    {applications, [kernel, stdlib]}\n]}.\n`;

test('single-app project: the relx release and src/<app>.app.src go from 1 to 2', () => {
  const dir = project({ 'rebar.config': '{relx, [{release, {hello, "1"}, [hello, sasl]}]}.\n', 'src/hello.app.src': app('hello', '1') });
  const r = run(dir, 'rebar3', '1', '2');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'rebar.config: 1 -> 2\nsrc/hello.app.src: 1 -> 2\n');
  assert.equal(read(dir, 'rebar.config'), '{relx, [{release, {hello, "2"}, [hello, sasl]}]}.\n');
  assert.equal(read(dir, 'src/hello.app.src'), app('hello', '2'));
});

test('umbrella project: the release (any spacing, quoted atom) and every app whose vsn is the old release version change; the others keep theirs', () => {
  const config = "{relx, [\n  {release,\n     { 'hello' ,\n       \"2.1\" },\n   [hello, extra, sasl]}\n]}.\n";
  const dir = project({
    'rebar.config': config,
    'apps/hello/src/hello.app.src': app('hello', '2.1'),
    'apps/extra/src/extra.app.src': app('extra', '0.9.0'),
    'lib/tools/src/tools.app.src': app('tools', '2.1'),
  });
  const r = run(dir, 'rebar3', '2.1', '2.2-rc.1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'apps/hello/src/hello.app.src: 2.1 -> 2.2-rc.1\nlib/tools/src/tools.app.src: 2.1 -> 2.2-rc.1\nrebar.config: 2.1 -> 2.2-rc.1\n');
  assert.equal(read(dir, 'rebar.config'), config.replace('"2.1"', '"2.2-rc.1"'));
  assert.equal(read(dir, 'apps/hello/src/hello.app.src'), app('hello', '2.2-rc.1'));
  assert.equal(read(dir, 'apps/extra/src/extra.app.src'), app('extra', '0.9.0'));
  assert.equal(read(dir, 'lib/tools/src/tools.app.src'), app('tools', '2.2-rc.1'));
});

test('a release version that is not in rebar.config fails and changes no file, not even a matching app vsn', () => {
  // "1.0" must match literally: "1x0" is not it (the version is never a pattern).
  const dir = project({ 'rebar.config': '{relx, [{release, {hello, "1x0"}, [hello]}]}.\n', 'src/hello.app.src': app('hello', '1.0') });
  const r = run(dir, 'rebar3', '1.0', '2.0');
  assert.equal(r.status, 255);
  assert.equal(r.stderr, 'version 1.0 of hello not found in rebar.config\n');
  assert.equal(read(dir, 'src/hello.app.src'), app('hello', '1.0'));
  assert.equal(read(dir, 'rebar.config'), '{relx, [{release, {hello, "1x0"}, [hello]}]}.\n');
});

test('mix: version: and @version in mix.exs', () => {
  const dir = project({ 'mix.exs': '@version "1.0.0-rc.1"\ndef project, do: [app: :hello, version: @version, elixir: "~> 1.14"]\n' });
  const r = run(dir, 'mix', '1.0.0-rc.1', '1.0.0+7');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(read(dir, 'mix.exs'), '@version "1.0.0+7"\ndef project, do: [app: :hello, version: @version, elixir: "~> 1.14"]\n');
});
