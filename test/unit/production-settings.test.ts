import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SEARCH } from '../../core/domain/search';

// docker-compose.yml and scripts/production.sh describe the same Temporal cluster: scripts/temporal.env holds what
// they share, and this test fails when the compose file drifts from it (an image bumped in one place only, another
// database plugin, another retention, a search attribute missing).

const root = resolve(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** scripts/temporal.env as KEY -> value (plain KEY=VALUE lines; `#` comments). */
function envFile(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read('scripts/temporal.env').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(line);
    assert.ok(m, `scripts/temporal.env: "${line}" is not a plain KEY=VALUE line (both sh and Compose read it)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

interface Service {
  image?: string;
  environment?: Record<string, string>;
  env_file?: string | string[];
  volumes?: string[];
  entrypoint?: string[];
  command?: string[];
}
const services = (parse(read('docker-compose.yml')) as { services: Record<string, Service> }).services;
const settings = envFile();

test('the Temporal images of docker-compose.yml are the server version production.sh builds', () => {
  const version = settings.TEMPORAL_SERVER_VERSION;
  assert.ok(version);
  const temporalImages = Object.entries(services).filter(([, s]) => s.image?.startsWith('temporalio/server:') || s.image?.startsWith('temporalio/admin-tools:'));
  assert.deepEqual(temporalImages.map(([name]) => name).sort(), ['temporal', 'temporal-admin-tools', 'temporal-create-namespace']);
  for (const [name, s] of temporalImages) assert.equal(s.image!.split(':')[1], version, `${name}: ${s.image}`);
  assert.match(read('scripts/production.sh'), /go\.temporal\.io\/server\/cmd\/server@v\$TEMPORAL_SERVER_VERSION/);
});

test('the server and the schema job use the database plugin and user of scripts/temporal.env', () => {
  for (const name of ['temporal', 'temporal-admin-tools']) {
    assert.equal(services[name]!.environment?.DB, settings.DB, `${name}: DB`);
    assert.equal(services[name]!.environment?.POSTGRES_USER, settings.POSTGRES_USER, `${name}: POSTGRES_USER`);
  }
  assert.equal(services.postgresql!.environment?.POSTGRES_USER, settings.POSTGRES_USER);
});

test('both setup jobs run scripts/temporal-setup.sh, as production.sh does, with scripts/temporal.env', () => {
  for (const [name, step] of [['temporal-admin-tools', 'schema'], ['temporal-create-namespace', 'namespace']] as const) {
    const s = services[name]!;
    assert.deepEqual([s.entrypoint, s.command], [['/bin/sh', '/ferry/temporal-setup.sh'], [step]], name);
    assert.ok(s.volumes?.includes('./scripts/temporal-setup.sh:/ferry/temporal-setup.sh:ro'), `${name} mounts the setup script`);
    assert.deepEqual([s.env_file].flat(), ['scripts/temporal.env'], name);
    assert.match(read('scripts/production.sh'), new RegExp(`scripts/temporal-setup\\.sh ${step}\\b`));
  }
});

test("the namespace keeps closed workflows for scripts/temporal.env's retention unless FERRY_RETENTION says otherwise", () => {
  assert.equal(services['temporal-create-namespace']!.environment?.TEMPORAL_RETENTION, `\${FERRY_RETENTION:-${settings.TEMPORAL_RETENTION}}`);
  assert.equal(settings.TEMPORAL_RETENTION, '30d');
});

test("scripts/temporal.env registers exactly Ferry's search attributes, all keywords", () => {
  const pairs = (settings.FERRY_SEARCH_ATTRIBUTES ?? '').split(',').map((p) => p.split('='));
  assert.deepEqual(pairs.map(([name]) => name).sort(), Object.values(SEARCH).map((k) => k.name).sort());
  assert.ok(pairs.every(([, type]) => type === 'Keyword'));
  assert.match(read('scripts/dev-server.sh'), /scripts\/temporal\.env/);
});
