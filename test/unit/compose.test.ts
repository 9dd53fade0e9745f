import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import draft07MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json';
import { parseDocument } from 'yaml';

// Static checks of docker-compose.yml and the worker's Dockerfile: nothing here needs a Docker engine.

const root = resolve(__dirname, '..', '..');
const composePath = join(root, 'docker-compose.yml');

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** docker-compose.yml as data; YAML errors (duplicate keys included) fail the load. */
function loadCompose(text: string = readFileSync(composePath, 'utf8')): Dict {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(doc.errors.map(String), [], 'docker-compose.yml is not valid YAML');
  const data: unknown = doc.toJS();
  assert.ok(isDict(data), 'docker-compose.yml must be a mapping');
  return data;
}

function servicesOf(compose: Dict): [string, Dict][] {
  const services = compose.services;
  assert.ok(isDict(services), 'docker-compose.yml has no services');
  return Object.entries(services).map(([name, s]) => {
    assert.ok(isDict(s), `service ${name} must be a mapping`);
    return [name, s];
  });
}

/**
 * The Compose Specification's JSON schema, as the dclint package ships it (a copy of schema/compose-spec.json from
 * the compose-spec repository). Its `$schema` is draft-07 spelt with https and no `#`, so that spelling is registered
 * as an alias of Ajv's draft-07 meta-schema: the schema itself is still checked against it.
 */
function composeSpecValidator(): ValidateFunction {
  const file = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Dict;
  assert.equal(schema.title, 'Compose Specification', `${file} is not the Compose Specification schema`);
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  if (typeof schema.$schema === 'string' && !ajv.getSchema(schema.$schema)) {
    ajv.addMetaSchema({ ...draft07MetaSchema, $id: schema.$schema });
  }
  return ajv.compile(schema);
}

/** `null` when an image reference names an explicit version (a tag other than `latest`, or a digest); else why not. */
function unpinnedReason(image: string): string | null {
  if (image.includes('$')) return 'uses variable interpolation, so its version cannot be checked';
  const [name = '', digest] = image.split('@');
  if (digest !== undefined) return /^sha256:[0-9a-f]{64}$/.test(digest) ? null : `has a malformed digest "${digest}"`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon < 0) return 'has no tag (it would pull latest)';
  const tag = lastPart.slice(colon + 1);
  if (tag === '' || tag === 'latest') return `has the tag "${tag}", which is not a pinned version`;
  return null;
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** A Dockerfile's instructions, with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (pending === undefined && line.trim() === '')) return;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${part.trim()}`, line: pending.line } : { text: part.trim(), line: i + 1 };
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(pending.text);
      if (m) out.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: pending.line });
      pending = undefined;
    }
  });
  return out;
}

/** The user the final stage of a Dockerfile runs as: its last USER instruction, or root when it has none. */
function finalUser(text: string): string {
  const instructions = dockerfileInstructions(text);
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const users = instructions.slice(lastFrom + 1).filter((i) => i.keyword === 'USER');
  return users.at(-1)?.args ?? 'root';
}

/** Whether a user spec (`name`, `uid`, `name:group`, `uid:gid`) is root. */
const isRoot = (user: string): boolean => ['root', '0'].includes(user.split(':')[0]?.trim() ?? '');

/** The Dockerfile a `build` entry uses, as a path on this machine. */
function dockerfileOf(build: unknown): string {
  const context = typeof build === 'string' ? build : isDict(build) && typeof build.context === 'string' ? build.context : '.';
  const dockerfile = isDict(build) && typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile';
  return resolve(dirname(composePath), context, dockerfile);
}

const secretPatterns: [string, RegExp][] = [
  ['an AWS access key id', /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/],
  ['an AWS secret access key', /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/i],
  ['a private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/],
];

/** Variables whose value must come from the environment (`${NAME}`), never be written in the file. */
const sensitiveName = /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|PRIVATE_KEY|SECRET|TOKEN/i;

/** The secrets written as literal values in a text or a parsed document, as messages. */
function literalSecrets(label: string, data: unknown): string[] {
  const found: string[] = [];
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      for (const [what, re] of secretPatterns) if (re.test(v)) found.push(`${label}${path}: ${what}`);
      const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(v);
      if (assignment && sensitiveName.test(assignment[1] ?? '') && !isInterpolation(assignment[2] ?? '')) {
        found.push(`${label}${path}: ${assignment[1]} has a literal value`);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${path}[${i}]`));
    } else if (isDict(v)) {
      for (const [k, x] of Object.entries(v)) {
        visit(k, `${path}.${k} (key)`);
        if (sensitiveName.test(k) && typeof x === 'string' && !isInterpolation(x)) found.push(`${label}${path}.${k} has a literal value`);
        visit(x, `${path}.${k}`);
      }
    }
  };
  visit(data, '');
  return found;
}

/** Whether a value is only a reference to a variable: `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME?error}`. */
const isInterpolation = (value: string): boolean =>
  value === '' || /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$/.test(value) || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value);

test('docker-compose.yml is valid against the Compose Specification schema', () => {
  const validate = composeSpecValidator();
  const ok = validate(loadCompose());
  assert.ok(ok, `docker-compose.yml breaks the Compose Specification:\n${JSON.stringify(validate.errors, null, 2)}`);
});

test('the Compose Specification schema rejects what Compose rejects', () => {
  const validate = composeSpecValidator();
  const bad = [
    'services:\n  a:\n    image: busybox:1.36\n    imagee: typo\n',
    'services:\n  a:\n    image: busybox:1.36\n    ports: 8080\n',
    'services:\n  a:\n    image: busybox:1.36\n    depends_on:\n      b:\n        condition: when_ready\n',
    'servicez:\n  a:\n    image: busybox:1.36\n',
  ];
  for (const text of bad) assert.equal(validate(loadCompose(text)), false, `the schema accepted:\n${text}`);
  assert.equal(validate(loadCompose('services:\n  a:\n    image: busybox:1.36\n')), true);
});

test('every service is built from a Dockerfile in the repository or runs an image with a pinned tag', () => {
  for (const [name, service] of servicesOf(loadCompose())) {
    if (service.build !== undefined) {
      const file = dockerfileOf(service.build);
      assert.ok(file.startsWith(root), `service ${name} builds from ${file}, outside the repository`);
      assert.ok(existsSync(file), `service ${name} builds from ${file}, which does not exist`);
    } else {
      assert.equal(typeof service.image, 'string', `service ${name} has neither build nor image`);
      const reason = unpinnedReason(service.image as string);
      assert.equal(reason, null, `service ${name}: image ${String(service.image)} ${reason}`);
    }
  }
});

test('the images that Dockerfiles build from are pinned too', () => {
  for (const [name, service] of servicesOf(loadCompose())) {
    if (service.build === undefined) continue;
    const instructions = dockerfileInstructions(readFileSync(dockerfileOf(service.build), 'utf8'));
    const stages = new Set<string>();
    for (const from of instructions.filter((i) => i.keyword === 'FROM')) {
      const [image = '', as, stage] = from.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const fromStage = stages.has(image); // FROM an earlier stage of the same file
      if (as?.toUpperCase() === 'AS' && stage) stages.add(stage);
      if (fromStage) continue;
      assert.equal(unpinnedReason(image), null, `service ${name}: FROM ${image} (line ${from.line}) ${unpinnedReason(image)}`);
    }
  }
});

test('the image-pin check tells pinned references from unpinned ones', () => {
  for (const pinned of ['postgres:16', 'temporalio/ui:2.49.1', 'localhost:5000/ferry:1.0', `node@sha256:${'a'.repeat(64)}`]) {
    assert.equal(unpinnedReason(pinned), null, pinned);
  }
  for (const unpinned of ['postgres', 'postgres:latest', 'localhost:5000/ferry', 'temporalio/ui:${UI_VERSION}', 'node@sha256:abc']) {
    assert.notEqual(unpinnedReason(unpinned), null, unpinned);
  }
});

test('every depends_on names a service of the file, and not the service itself', () => {
  const services = servicesOf(loadCompose());
  const names = new Set(services.map(([name]) => name));
  for (const [name, service] of services) {
    const dependsOn = service.depends_on;
    if (dependsOn === undefined) continue;
    const deps = Array.isArray(dependsOn) ? dependsOn : isDict(dependsOn) ? Object.keys(dependsOn) : undefined;
    assert.ok(deps, `service ${name}: depends_on has an unknown form`);
    for (const dep of deps) {
      assert.ok(names.has(String(dep)), `service ${name} depends on ${String(dep)}, which is not a service of docker-compose.yml`);
      assert.notEqual(dep, name, `service ${name} depends on itself`);
    }
  }
});

test('every named volume a service mounts is declared under volumes', () => {
  const compose = loadCompose();
  const declared = new Set(isDict(compose.volumes) ? Object.keys(compose.volumes) : []);
  for (const [name, service] of servicesOf(compose)) {
    for (const v of Array.isArray(service.volumes) ? service.volumes : []) {
      // Short syntax SOURCE:TARGET[:MODE]; a source that is no path (., /, ~ or ${...}) is a named volume.
      const source = typeof v === 'string' ? /^(.+?):\//.exec(v)?.[1] : isDict(v) && v.type === 'volume' ? v.source : undefined;
      if (typeof source !== 'string' || source === '' || /^[./~$]/.test(source)) continue;
      assert.ok(declared.has(source), `service ${name} mounts the volume ${source}, which is not declared under volumes`);
    }
  }
});

test('the worker does not run as root', () => {
  const built = servicesOf(loadCompose()).filter(([, s]) => s.build !== undefined);
  assert.ok(built.some(([name]) => name === 'ferry-worker'), 'docker-compose.yml has no ferry-worker service built from the repository');
  for (const [name, service] of built) {
    const user = finalUser(readFileSync(dockerfileOf(service.build), 'utf8'));
    assert.ok(!isRoot(user), `service ${name}: its Dockerfile's final stage runs as ${user}`);
    if (typeof service.user === 'string') assert.ok(!isRoot(service.user), `service ${name}: user: ${service.user} runs it as root`);
  }
});

test('the USER check reads the final stage of a Dockerfile', () => {
  assert.equal(finalUser('FROM a:1\nRUN true\n'), 'root');
  assert.equal(finalUser('FROM a:1\nUSER ferry\nFROM b:2\nRUN x \\\n  && y\n'), 'root');
  assert.equal(finalUser('FROM a:1 AS build\nUSER 0\nFROM b:2\n# USER root\nUSER 10001:10001\n'), '10001:10001');
  assert.ok(isRoot('0:0') && isRoot('root') && !isRoot('ferry') && !isRoot('10001'));
});

test('the worker mounts its SSH material read-only', () => {
  const worker = servicesOf(loadCompose()).find(([name]) => name === 'ferry-worker')?.[1];
  assert.ok(worker, 'docker-compose.yml has no ferry-worker service');
  const volumes = Array.isArray(worker.volumes) ? worker.volumes : [];
  const target = '/home/ferry/.ssh';
  const ssh = volumes.find((v) => (typeof v === 'string' ? v.endsWith(`:${target}`) || v.includes(`:${target}:`) : isDict(v) && v.target === target));
  assert.ok(ssh !== undefined, 'ferry-worker does not mount /home/ferry/.ssh');
  const readOnly = typeof ssh === 'string' ? ssh.split(':').at(-1)?.split(',').includes('ro') : isDict(ssh) && ssh.read_only === true;
  assert.ok(readOnly, `ferry-worker mounts /home/ferry/.ssh writable: ${JSON.stringify(ssh)}`);
});

test('no secret is written as a literal value', () => {
  const compose = loadCompose();
  const found = literalSecrets('docker-compose.yml', compose);
  found.push(...literalSecrets('docker-compose.yml (text)', readFileSync(composePath, 'utf8')));
  for (const [, service] of servicesOf(compose)) {
    if (service.build === undefined) continue;
    const file = dockerfileOf(service.build);
    const text = readFileSync(file, 'utf8');
    found.push(...literalSecrets(file, text));
    for (const i of dockerfileInstructions(text).filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      found.push(...literalSecrets(`${file}:${i.line}`, i.args.split(/\s+/)));
    }
  }
  assert.deepEqual(found, []);
});

test('the secret check finds literal keys and accepts interpolated ones', () => {
  const fakeKeyId = 'AKIA' + 'ABCDEFGHIJKLMNOP';
  const pem = '-----BEGIN ' + 'OPENSSH PRIVATE KEY-----\nabc\n';
  assert.equal(literalSecrets('x', { environment: { AWS_ACCESS_KEY_ID: fakeKeyId } }).length > 0, true);
  assert.equal(literalSecrets('x', { environment: [`AWS_SECRET_ACCESS_KEY=${'a'.repeat(40)}`] }).length > 0, true);
  assert.equal(literalSecrets('x', { configs: { key: { content: pem } } }).length > 0, true);
  assert.deepEqual(literalSecrets('x', { environment: { AWS_SECRET_ACCESS_KEY: '${AWS_SECRET_ACCESS_KEY}', FERRY_TOKEN: '${FERRY_TOKEN:-}' } }), []);
  assert.deepEqual(literalSecrets('x', { environment: ['AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN', 'AWS_REGION=eu-west-1'] }), []);
});
