import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectionOptions, temporalSettings } from '../../../activities/temporal-connection';
import { InputError } from '../../../core/domain/errors';
import { project } from '../../support/project';

// HOME points at an empty directory, so no ~/.config/temporalio/temporal.toml of the machine leaks in.
const home = project();
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);
const base = { HOME: home, XDG_CONFIG_HOME: join(home, '.config') };

test('nothing set: the local dev server, namespace default, no TLS', () => {
  assert.deepEqual(temporalSettings(base), { address: '127.0.0.1:7233', namespace: 'default', source: 'environment' });
});

test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are used as the Temporal CLI uses them', () => {
  const s = temporalSettings({ ...base, TEMPORAL_ADDRESS: 'temporal.example.com:7233', TEMPORAL_NAMESPACE: 'deploys' });
  assert.equal(s.address, 'temporal.example.com:7233');
  assert.equal(s.namespace, 'deploys');
  assert.equal(s.tls, undefined);
});

test('TLS client certificate, key, CA and server name reach the connection options as bytes', () => {
  const dir = project({ 'client.pem': 'CERT', 'client.key': 'KEY', 'ca.pem': 'CA' });
  const s = temporalSettings({
    ...base,
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  const tls = connectionOptions(s).tls;
  assert.ok(tls && typeof tls === 'object');
  assert.equal(text(tls.clientCertPair?.crt), 'CERT');
  assert.equal(text(tls.clientCertPair?.key), 'KEY');
  assert.equal(text(tls.serverRootCACertificate), 'CA');
  assert.equal(tls.serverNameOverride, 'temporal.internal');
});

test('TEMPORAL_API_KEY turns TLS on and is passed as the API key', () => {
  const opts = connectionOptions(temporalSettings({ ...base, TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'k-123' }));
  assert.equal(opts.apiKey, 'k-123');
  assert.equal(opts.tls, true);
});

test('TEMPORAL_TLS=true alone means TLS with the system roots', () => {
  const s = temporalSettings({ ...base, TEMPORAL_TLS: 'true' });
  assert.deepEqual(s.tls, { serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined });
});

test('a profile of TEMPORAL_CONFIG_FILE gives address, namespace, API key and TLS; env vars override it', () => {
  const dir = project({
    'temporal.toml': [
      '[profile.default]',
      'address = "127.0.0.1:1"',
      '[profile.cloud]',
      'address = "ns.acct.tmprl.cloud:7233"',
      'namespace = "ns.acct"',
      'api_key = "from-file"',
      '[profile.cloud.grpc_meta]',
      'team = "ops"',
    ].join('\n'),
  });
  const file = join(dir, 'temporal.toml');
  const cloud = temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
  assert.equal(cloud.address, 'ns.acct.tmprl.cloud:7233');
  assert.equal(cloud.namespace, 'ns.acct');
  assert.equal(cloud.apiKey, 'from-file');
  assert.equal(cloud.tls, true);
  assert.deepEqual(cloud.metadata, { team: 'ops' });
  assert.equal(cloud.source, `profile cloud of ${file}`);
  assert.equal(temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: file }).address, '127.0.0.1:1');
  assert.equal(temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other' }).namespace, 'other');
});

test('the default file ~/.config/temporalio/temporal.toml is read', () => {
  const h = project({ '.config/temporalio/temporal.toml': '[profile.default]\naddress = "10.1.2.3:7233"\nnamespace = "home"\n' });
  const s = temporalSettings({ HOME: h, XDG_CONFIG_HOME: join(h, '.config') });
  assert.equal(s.address, '10.1.2.3:7233');
  assert.equal(s.namespace, 'home');
});

test('a missing config file, an unknown profile and a bad TOML file are input errors that name them', () => {
  assert.throws(() => temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: join(home, 'nope.toml') }), (e: Error) => e instanceof InputError && /nope\.toml does not exist/.test(e.message));
  const dir = project({ 'temporal.toml': '[profile.default]\naddress = "a:1"\n', 'bad.toml': '[profile.default\n' });
  assert.throws(
    () => temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml'), TEMPORAL_PROFILE: 'prod' }),
    (e: Error) => e instanceof InputError && /profile prod/.test(e.message) && /'prod' not found/.test(e.message),
  );
  assert.throws(() => temporalSettings({ ...base, TEMPORAL_CONFIG_FILE: join(dir, 'bad.toml') }), InputError);
});
