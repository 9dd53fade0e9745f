import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, buildUpgradeRequest, deployRequest, deployUpgradeRequest } from '../../client/requests';
import { exampleProject, testConfig, testEnv } from '../support/env';
import { allLogins, ferry, spawnWorker, stopWorker, summary, temporal } from './support';

/**
 * A corpus of bad input, through the ferry CLI and through `temporal workflow start` with the same JSON the CLI would
 * send: each is refused with a specific message before any remote command runs, proven by the hosts' sshd logs
 * (no new login on any host, the build host included).
 */
const env = testEnv();
const HOSTS = ['build', 'prod1', 'prod2', 'prod3', 'other'];
const name = (host: string) => `${env.host(host)}`;
let worker: ChildProcess;
let good: string;

before(() => {
  good = exampleProject(env, testConfig(env));
  worker = spawnWorker();
  const stored = (JSON.parse(ferry(good, 'show', 'releases', '--json').out || '[]') as Array<{ version: string }>).map((r) => r.version);
  if (!stored.includes('0.1.0')) assert.equal(ferry(good, 'build', 'release', '--tag=0.1.0').code, 0);
});

after(async () => {
  await stopWorker(worker);
});

interface Case {
  what: string;
  /** What the refusal must say. */
  message: RegExp;
  run: () => { code: number | null; out: string; err: string };
}

/** A project whose .deliver/config is the test config with `replace` applied (a [regex, text] pair) and `extra` added. */
function project(extra: string, replace?: [RegExp, string]): string {
  const text = testConfig(env, extra);
  return exampleProject(env, replace ? text.replace(replace[0], replace[1]) : text);
}

const deploy = (dir: string, ...flags: string[]) => ferry(dir, 'deploy', 'release', 'to', 'production', '--start-deploy', ...flags);

function cliCases(): Case[] {
  const emptyKnownHosts = join(env.state, 'known_hosts.empty');
  writeFileSync(emptyKnownHosts, '');
  return [
    { what: 'malformed config (unterminated quote)', message: /config/i, run: () => deploy(project('', [/^APP="hello"$/m, 'APP="hello']), '--version=0.1.0') },
    { what: 'missing variable (no PRODUCTION_HOSTS)', message: /production/i, run: () => deploy(project('', [/^PRODUCTION_HOSTS=.*$/m, '']), '--version=0.1.0') },
    { what: 'shell metacharacters in APP', message: /APP/, run: () => deploy(project('', [/^APP="hello"$/m, 'APP="hello;touch /tmp/pwned"']), '--version=0.1.0') },
    { what: 'path traversal in APP', message: /APP/, run: () => deploy(project('', [/^APP="hello"$/m, 'APP="../../etc"']), '--version=0.1.0') },
    { what: 'shell metacharacters in --version', message: /version/, run: () => deploy(good, '--version=0.1.0;reboot') },
    { what: 'command substitution in --version', message: /version/, run: () => deploy(good, '--version=$(id)') },
    { what: 'path traversal in --version', message: /version/, run: () => deploy(good, '--version=../../../etc/passwd') },
    { what: 'a version not in the store', message: /9\.9\.9/, run: () => deploy(good, '--version=9.9.9') },
    { what: 'shell metacharacters in --branch', message: /branch/, run: () => ferry(good, 'build', 'release', '--branch=main;touch /tmp/pwned') },
    { what: 'option injection in --branch', message: /branch/, run: () => ferry(good, 'build', 'release', '--branch=--upload-pack=touch /tmp/pwned') },
    { what: 'path traversal in --branch', message: /branch|not a branch/, run: () => ferry(good, 'build', 'release', '--branch=../../x') },
    { what: 'shell metacharacters in a host', message: /host/i, run: () => deploy(project('', [/^PRODUCTION_HOSTS=.*$/m, `PRODUCTION_HOSTS="${name('prod1')};id"`]), '--version=0.1.0') },
    { what: 'option injection as a host', message: /host/i, run: () => deploy(project('', [/^PRODUCTION_HOSTS=.*$/m, 'PRODUCTION_HOSTS="-oProxyCommand=touch:22"']), '--version=0.1.0') },
    { what: 'an unknown --host', message: /unknown host/, run: () => deploy(good, '--version=0.1.0', '--host=../../prod9') },
    { what: 'path traversal in DELIVER_TO', message: /DELIVER_TO|path/, run: () => deploy(project('', [/^DELIVER_TO=.*$/m, 'DELIVER_TO="/opt/../etc"']), '--version=0.1.0') },
    { what: 'shell metacharacters in DELIVER_TO', message: /DELIVER_TO|path/, run: () => deploy(project('', [/^DELIVER_TO=.*$/m, 'DELIVER_TO="/opt/ferry;reboot"']), '--version=0.1.0') },
    { what: 'shell metacharacters in BUILD_AT', message: /BUILD_AT|path/, run: () => ferry(project('', [/^BUILD_AT=.*$/m, 'BUILD_AT="/opt/$(id)"']), 'build', 'release') },
    { what: 'relative RELEASE_STORE with traversal', message: /RELEASE_STORE|path|store/i, run: () => deploy(project('', [/^RELEASE_STORE=.*$/m, 'RELEASE_STORE="../../etc"']), '--version=0.1.0') },
    { what: 'an upgrade that is not in the store (wrong from-version)', message: /upgrade/i, run: () => ferry(good, 'deploy', 'upgrade', 'to', 'production', '--version=0.1.0') },
    { what: 'build upgrade from a revision that does not exist', message: /9\.9\.9/, run: () => ferry(good, 'build', 'upgrade', '--from=9.9.9', '--to=0.2.0') },
    { what: 'build upgrade with an old version not in the store', message: /9\.9\.9/, run: () => ferry(good, 'build', 'upgrade', '--with=9.9.9', '--to=0.2.0') },
    { what: 'build upgrade whose from-version is its to-version', message: /two different versions/, run: () => ferry(good, 'build', 'upgrade', '--from=0.1.0', '--to=0.1.0') },
    { what: 'build upgrade with metacharacters in --from', message: /from/, run: () => ferry(good, 'build', 'upgrade', '--from=0.1.0;id', '--to=0.2.0') },
    { what: 'a free-form version (1) that is not in the store', message: /hello 1 is not in the release store/, run: () => deploy(good, '--version=1') },
    { what: 'a command separator in a free-form --version', message: /invalid version "1;id": ";" is not allowed/, run: () => deploy(good, '--version=1;id') },
    // One argument can be at most 128 KiB on Linux, so the command line carries 100,000 characters (JSON below: 200,000).
    { what: 'a --version of 100,000 characters', message: /it has 100000 characters, at most 100 are allowed/, run: () => deploy(good, `--version=${'1'.repeat(100_000)}`) },
    { what: 'path traversal in build upgrade --with', message: /invalid version "\.\.\/x": "\/" is not allowed/, run: () => ferry(good, 'build', 'upgrade', '--with=../x', '--to=0.2.0') },
    { what: 'a command separator in --set-version', message: /--set-version: invalid version "1;id"/, run: () => ferry(good, 'build', 'release', '--set-version=1;id') },
    { what: 'an underscore in --set-version', message: /"_" is not allowed/, run: () => ferry(good, 'build', 'release', '--set-version=1_0') },
    { what: 'unknown host key (empty known_hosts)', message: /host key|known_hosts/i, run: () => deploy(project(`SSH_KNOWN_HOSTS="${emptyKnownHosts}"\n`), '--version=0.1.0') },
  ];
}

async function temporalCases(): Promise<Case[]> {
  const config = await loadDeliveryConfig({ cwd: good });
  const base = deployRequest(config, 'production', { version: '0.1.0', startDeploy: true });
  const build = buildRequest(config, { tag: '0.1.0' });
  const upgrade = buildUpgradeRequest(config, { from: '0.1.0', to: '0.2.0' });
  const deployUpgrade = deployUpgradeRequest(config, 'production', { version: '0.2.0' });
  let n = 0;
  // Through a file: an input can be longer than one command-line argument may be (128 KiB).
  const inputFile = join(env.state, 'chaos-bad-input.json');
  const start = (type: string, input: unknown) => () => {
    const id = `chaos-bad-input-${process.pid}-${++n}`;
    writeFileSync(inputFile, JSON.stringify(input));
    const s = temporal(env, 'workflow', 'start', '--type', type, '--task-queue', 'ferry', '--workflow-id', id, '--input-file', inputFile);
    if (s.code !== 0) return s;
    return temporal(env, 'workflow', 'result', '--workflow-id', id);
  };
  const host0 = base.hosts[0]!;
  const withHost = (patch: Record<string, unknown>) => ({ ...base, hosts: [{ ...host0, ...patch }] });
  return [
    { what: 'deployRelease: metacharacters in app', message: /app/, run: start('deployRelease', { ...base, app: 'hello;id' }) },
    { what: 'deployRelease: path traversal in app', message: /app/, run: start('deployRelease', { ...base, app: '../etc' }) },
    { what: 'deployRelease: metacharacters in version', message: /version/, run: start('deployRelease', { ...base, version: '0.1.0$(id)' }) },
    { what: 'deployRelease: path traversal in version', message: /version/, run: start('deployRelease', { ...base, version: '../../x' }) },
    { what: 'deployRelease: a version not in the store', message: /9\.9\.9/, run: start('deployRelease', { ...base, version: '9.9.9' }) },
    { what: 'deployRelease: metacharacters in a host address', message: /host/, run: start('deployRelease', withHost({ address: '127.0.0.1;id' })) },
    { what: 'deployRelease: option injection as a host address', message: /host/, run: start('deployRelease', withHost({ address: '-oProxyCommand=id' })) },
    { what: 'deployRelease: path traversal in deployTo', message: /deployTo|path/, run: start('deployRelease', withHost({ deployTo: '/opt/../etc' })) },
    { what: 'deployRelease: metacharacters in deployTo', message: /deployTo|path/, run: start('deployRelease', withHost({ deployTo: '/opt/x`id`' })) },
    { what: 'deployRelease: metacharacters in nodeName', message: /nodeName|node name/, run: start('deployRelease', withHost({ nodeName: 'a@b;id' })) },
    { what: 'deployRelease: path traversal in the store', message: /store|path/, run: start('deployRelease', { ...base, store: { kind: 'local', dir: '/tmp/../etc' } }) },
    { what: 'deployRelease: an unknown field', message: /unrecognized|unknown|key/i, run: start('deployRelease', { ...base, command: 'rm -rf /' }) },
    { what: 'deployRelease: path traversal in ssh.knownHostsFile', message: /knownHostsFile|path/, run: start('deployRelease', { ...base, ssh: { knownHostsFile: '/etc/../root/x' } }) },
    { what: 'buildRelease: metacharacters in ref', message: /ref/, run: start('buildRelease', { ...build, ref: 'main;id' }) },
    { what: 'buildRelease: option injection in ref', message: /ref/, run: start('buildRelease', { ...build, ref: '--upload-pack=id' }) },
    { what: 'buildUpgrade: a from-revision that does not exist', message: /9\.9\.9/, run: start('buildUpgrade', { ...upgrade, from: '9.9.9' }) },
    { what: 'buildUpgrade: an old version not in the store', message: /9\.9\.9/, run: start('buildUpgrade', { ...upgrade, from: undefined, with: '9.9.9' }) },
    { what: 'buildUpgrade: from-version equal to the to-version', message: /two different versions/, run: start('buildUpgrade', { ...upgrade, ref: '0.1.0' }) },
    { what: 'buildUpgrade: metacharacters in from', message: /from/, run: start('buildUpgrade', { ...upgrade, from: '0.1.0$(id)' }) },
    { what: 'deployUpgrade: an upgrade to a version not in the store', message: /9\.9\.9/, run: start('deployUpgrade', { ...deployUpgrade, version: '9.9.9' }) },
    { what: 'deployRelease: a command separator in a free-form version', message: /version: invalid version .*1;id/, run: start('deployRelease', { ...base, version: '1;id' }) },
    { what: 'deployRelease: a version of 200,000 characters', message: /it has 200000 characters, at most 100 are allowed/, run: start('deployRelease', { ...base, version: '1'.repeat(200_000) }) },
    { what: 'deployUpgrade: path traversal in version', message: /version: invalid version .*\.\.\/x/, run: start('deployUpgrade', { ...deployUpgrade, version: '../x' }) },
    { what: 'buildUpgrade: a command separator in with', message: /with: invalid version .*1;id/, run: start('buildUpgrade', { ...upgrade, from: undefined, with: '1;id' }) },
    { what: 'buildRelease: path traversal in versioning.set', message: /versioning\.set: invalid version .*\.\.\/x/, run: start('buildRelease', { ...build, versioning: { set: '../x' } }) },
    { what: 'buildRelease: metacharacters in buildAt', message: /buildAt|path/, run: start('buildRelease', { ...build, buildAt: '/opt/$(id)' }) },
  ];
}

function runCorpus(family: string, cases: Case[]) {
  const problems: string[] = [];
  let passed = 0;
  let lost = 0;
  for (const c of cases) {
    const before = allLogins(env, HOSTS);
    const r = c.run();
    const logins = allLogins(env, HOSTS) - before;
    const text = `${r.out}\n${r.err}`;
    const refused = r.code !== 0;
    if (logins > 0) lost++;
    if (refused && logins === 0 && c.message.test(text)) passed++;
    else problems.push(`${c.what}: exit ${r.code}, ${logins} new login(s), said: ${text.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
  }
  summary(family, cases.length, passed, lost);
  return problems;
}

test('bad input through the ferry CLI: each refused with a clear message, no login on any host', () => {
  assert.deepEqual(runCorpus('bad input (ferry CLI)', cliCases()), []);
});

test('the same bad input as JSON through `temporal workflow start`: each refused, no login on any host', async () => {
  assert.deepEqual(runCorpus('bad input (temporal workflow start)', await temporalCases()), []);
});
