import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../core/domain/errors';
import { changesVersion, incrementVersion, nextVersion, parseAutoVersion, type VersionFacts } from '../../../core/domain/versioning';

const facts: VersionFacts = { revision: '82a5834', branch: 'master', commitCount: 3027, commitCountBranch: 12, date: '20160414', time: '174501' };

test('--increment-version follows edeliver: patch, minor and major reset what is below them', () => {
  assert.equal(incrementVersion('1.2.3', 'patch'), '1.2.4');
  assert.equal(incrementVersion('1.2.3', 'minor'), '1.3.0');
  assert.equal(incrementVersion('1.2.3', 'major'), '2.0.0');
  assert.equal(incrementVersion('0.9.9-rc.1+77', 'patch'), '0.9.10');
  assert.throws(() => incrementVersion('one', 'patch'), InputError);
});

test('--auto-version parts take edeliver names, git-/build- prefixes and aliases, joined by +', () => {
  assert.deepEqual(parseAutoVersion('commit-count+git-revision+branch-unless-master'), ['commit-count', 'revision', 'branch-unless-master']);
  assert.deepEqual(parseAutoVersion('git-commit-count-all-branches+build-date+build-time'), ['commit-count', 'date', 'time']);
  assert.deepEqual(parseAutoVersion('commit_count_branch+git-branch'), ['commit-count-branch', 'branch']);
  assert.throws(() => parseAutoVersion('commit-count+moon-phase'), /unknown part "moon-phase": use commit-count, commit-count-branch/);
  assert.throws(() => parseAutoVersion('+'), /give one or more of/);
});

test('metadata is appended as edeliver does: the first after +, the rest after -', () => {
  assert.equal(nextVersion('1.0.0', { auto: ['commit-count'] }, facts), '1.0.0+3027');
  assert.equal(nextVersion('1.0.0', { auto: ['revision'] }, facts), '1.0.0+82a5834');
  assert.equal(nextVersion('1.0.0', { auto: ['commit-count', 'revision'] }, facts), '1.0.0+3027-82a5834');
  assert.equal(nextVersion('1.0.0', { auto: ['revision', 'commit-count'] }, facts), '1.0.0+82a5834-3027');
  assert.equal(nextVersion('1.0.0', { auto: ['revision', 'branch-unless-master'] }, facts), '1.0.0+82a5834');
  assert.equal(nextVersion('1.0.0', { auto: ['branch', 'date'] }, { ...facts, branch: 'feature/login_v2' }), '1.0.0+featureloginv2-20160414');
  assert.equal(nextVersion('1.0.0', { auto: ['commit-count-branch', 'time'] }, facts), '1.0.0+12-174501');
  // Metadata the sources already carry is replaced, not stacked.
  assert.equal(nextVersion('1.0.0+old', { auto: ['commit-count'] }, facts), '1.0.0+3027');
});

test('--set-version and --increment-version combine with --auto-version', () => {
  assert.equal(nextVersion('0.2.0', { increment: 'patch', auto: ['commit-count'] }, facts), '0.2.1+3027');
  assert.equal(nextVersion('0.2.0', { set: '3.0.0' }, undefined), '3.0.0');
  assert.equal(nextVersion('0.2.0', { set: '3.0.0', increment: 'minor' }, undefined), '3.1.0');
  assert.equal(nextVersion('0.2.0', { set: '3.0.0-rc.1', auto: ['date'] }, facts), '3.0.0-rc.1+20160414');
});

test('a branch is needed for --auto-version=branch; every other part works on a detached revision', () => {
  const detached = { ...facts, branch: undefined };
  assert.throws(() => nextVersion('1.0.0', { auto: ['branch'] }, detached), /not on a branch: build with --branch=B/);
  assert.equal(nextVersion('1.0.0', { auto: ['commit-count'] }, detached), '1.0.0+3027');
});

test('changesVersion is false when no flag asks for a change', () => {
  assert.equal(changesVersion(undefined), false);
  assert.equal(changesVersion({}), false);
  assert.equal(changesVersion({ auto: [] }), false);
  assert.equal(changesVersion({ increment: 'patch' }), true);
});
