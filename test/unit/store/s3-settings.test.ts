import assert from 'node:assert/strict';
import { test } from 'node:test';
import { s3SettingsFromEnv } from '../../../activities/store';

test('S3 settings come from the standard AWS variables; AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL', () => {
  assert.deepEqual(
    s3SettingsFromEnv({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://b' }),
    { region: 'eu-west-1', endpoint: 'http://b', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, presignedUrls: true },
  );
});

test('without keys the SDK default chain applies; the region falls back to AWS_DEFAULT_REGION, then us-east-1', () => {
  assert.deepEqual(s3SettingsFromEnv({ AWS_DEFAULT_REGION: 'ap-south-1', AWS_ACCESS_KEY_ID: 'only-the-id' }), {
    region: 'ap-south-1', endpoint: undefined, credentials: undefined, presignedUrls: true,
  });
  assert.equal(s3SettingsFromEnv({}).region, 'us-east-1');
});

test('FERRY_S3_PRESIGNED_URLS=0 turns presigned delivery off', () => {
  for (const off of ['0', 'false', 'NO']) assert.equal(s3SettingsFromEnv({ FERRY_S3_PRESIGNED_URLS: off }).presignedUrls, false);
  assert.equal(s3SettingsFromEnv({ FERRY_S3_PRESIGNED_URLS: '1' }).presignedUrls, true);
});
