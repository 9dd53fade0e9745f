import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../core/domain/errors';
import { changesVersion, declaredVersion, incrementVersion, nextVersion, parseAutoVersion, settableVersion, type VersionFacts } from '../../../core/domain/versioning';

const facts: VersionFacts = { revision: '82a5834', branch: 'master', commitCount: 3027, commitCountBranch: 12, date: '20160414', time: '174501' };

test('--increment-version follows edeliver: patch, minor and major reset what is below them', () => {
  assert.equal(incrementVersion('1.2.3', 'patch'), '1.2.4');
  assert.equal(incrementVersion('1.2.3', 'minor'), '1.3.0');
  assert.equal(incrementVersion('1.2.3', 'major'), '2.0.0');
  assert.equal(incrementVersion('0.9.9-rc.1+77', 'patch'), '0.9.10');
});

test('--increment-version works on any number of numeric segments: major the first, minor the second, patch the last', () => {
  const cases: Array<[string, 'patch' | 'minor' | 'major', string]> = [
    ['1', 'patch', '2'],
    ['1', 'major', '2'],
    ['1.0', 'patch', '1.1'],
    ['1.0', 'minor', '1.1'],
    ['2.1', 'major', '3.0'],
    ['25.3.2.8', 'patch', '25.3.2.9'],
    ['25.3.2.8', 'minor', '25.4.0.0'],
    ['25.3.2.8', 'major', '26.0.0.0'],
    ['2024.05.01', 'patch', '2024.05.02'],
    ['2024.05.09', 'patch', '2024.05.10'],
    ['2024.05.01', 'minor', '2024.06.00'],
    ['1.09', 'patch', '1.10'],
    ['1.99', 'patch', '1.100'],
    ['1.10.5', 'major', '2.0.0'],
    ['1.0~rc1', 'patch', '1.1'],
    ['99999999999999999999.0', 'major', '100000000000000000000.0'],
  ];
  for (const [from, by, to] of cases) assert.equal(incrementVersion(from, by), to, `${by} of ${from}`);
});

test('--increment-version says why it cannot: a segment that is not a number, no minor segment', () => {
  assert.throws(() => incrementVersion('one', 'patch'), /^InputError: cannot increment "one": its segment "one" is not a number \(--increment-version steps numeric segments\); use --set-version=V$/);
  assert.throws(() => incrementVersion('R16B03', 'patch'), /cannot increment "R16B03": its segment "R16B03" is not a number/);
  assert.throws(() => incrementVersion('1.0a', 'major'), /cannot increment "1\.0a": its segment "0a" is not a number/);
  assert.throws(() => incrementVersion('1', 'minor'), /^InputError: cannot increment the minor segment of "1": it has only one segment; use --increment-version=major or --set-version=V$/);
  assert.throws(() => incrementVersion('1', 'minor'), InputError);
});

test('--set-version takes any valid version without +metadata', () => {
  for (const v of ['1', '2.1', '2024.05.01', '1.0.0-rc.1', 'R16B03-1']) assert.equal(settableVersion(v), v);
  assert.throws(() => settableVersion('1.0+b'), /^InputError: invalid version "1\.0\+b": give it without \+metadata \(--auto-version appends that\)$/);
  assert.throws(() => settableVersion('1;id'), /^InputError: invalid version "1;id": ";" is not allowed/);
});

test('declaredVersion reads the release version of rebar.config in any spacing, quoted or not, and of mix.exs', () => {
  const cases: Array<['rebar3' | 'mix', string, string | undefined]> = [
    ['rebar3', '{relx, [{release, {hello, "0.1.0"}, [hello, sasl]}]}.', '0.1.0'],
    ['rebar3', "{relx, [\n  {release,\n     { 'hello' ,\n       \"1\" },\n   [hello, sasl]}\n]}.", '1'],
    ['rebar3', '{relx, [{release, {other, "9"}, [other]}, {release, {hello, "2.1"}, [hello]}]}.', '2.1'],
    ['rebar3', '%% {release, {hello, "0.0.1"}, [hello]}\n{relx, [{release, {hello, "2024.05.01"}, [hello]}]}.', '2024.05.01'],
    ['rebar3', '{relx, [{release, {hello_web, "3"}, [hello_web]}]}.', undefined],
    ['rebar3', '{relx, [{release, {hello, "1;id"}, [hello]}]}.', undefined],
    ['rebar3', '{relx, [{release, {hello, git}, [hello]}]}.', undefined],
    ['mix', 'def project, do: [app: :hello, version: "1.0.0-rc.1", elixir: "~> 1.14"]', '1.0.0-rc.1'],
    ['mix', '@version "2.0.0"\ndef project, do: [app: :hello, version: @version]', '2.0.0'],
  ];
  for (const [tool, text, expected] of cases) assert.equal(declaredVersion(tool, 'hello', text), expected, text);
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
  assert.equal(nextVersion('0.2.0', { set: '3', increment: 'patch', auto: ['commit-count'] }, facts), '4+3027');
  assert.equal(nextVersion('2.1', { auto: ['revision'] }, facts), '2.1+82a5834');
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
