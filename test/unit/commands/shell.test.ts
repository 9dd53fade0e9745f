import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { and, inDir, quote, toShell } from '../../../core/commands/shell';

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ferry-shell-')));
  made.push(dir);
  return dir;
}

test('quote leaves plain words, paths, versions, options and node names bare', () => {
  for (const word of ['hello', '/opt/ferry/hello', '0.1.0-rc.1+build.5', '-xzf', '--force', 'PIPE_DIR=/x/', 'hello@127.0.0.1', 'a,b:c%d']) {
    assert.equal(quote(word), word);
  }
});

test('quote wraps a value with a space in single quotes', () => {
  assert.equal(quote('/opt/my app'), "'/opt/my app'");
});

test('quote closes, escapes and reopens around a single quote', () => {
  assert.equal(quote("it's"), `'it'\\''s'`);
});

test('quote makes the empty string an explicit empty argument', () => {
  assert.equal(quote(''), "''");
});

test('quote leaves shell metacharacters inert inside single quotes', () => {
  assert.equal(quote('$(touch X)'), "'$(touch X)'");
  assert.equal(quote('`x`'), "'`x`'");
  assert.equal(quote('a;b'), "'a;b'");
  assert.equal(quote('~'), "'~'");
  assert.equal(quote('*'), "'*'");
});

test('quote rejects a NUL, which no shell argument can carry', () => {
  assert.throws(() => quote('a\0b'), { message: 'a shell argument cannot contain NUL' });
});

test('toShell joins quoted arguments with single spaces', () => {
  assert.equal(toShell(['tar', '-xzf', '/opt/my app/hello.tar.gz', '-C', '/opt/my app']), "tar -xzf '/opt/my app/hello.tar.gz' -C '/opt/my app'");
});

test('toShell rejects an argv with a NUL in any argument', () => {
  assert.throws(() => toShell(['echo', 'ok', 'x\0']), /cannot contain NUL/);
});

test('and joins commands with && in order', () => {
  assert.equal(and(['mkdir', '-p', '/opt/a b'], ['touch', '/opt/a b/x']), "mkdir -p '/opt/a b' && touch '/opt/a b/x'");
});

test('and of one command is that command', () => {
  assert.equal(and(['true']), 'true');
});

test('inDir changes into the directory first, quoting it', () => {
  assert.equal(inDir('/opt/build dir', ['git', 'clean', '-fdq'], ['rebar3', 'as', 'prod', 'tar']), "cd '/opt/build dir' && git clean -fdq && rebar3 as prod tar");
});

test('inDir with no commands is only the cd', () => {
  assert.equal(inDir('/opt'), 'cd /opt');
});

const hostile = [
  'two words',
  "single ' quote",
  'double " quote',
  "''",
  '$(touch X)',
  '`touch X`',
  '"$(touch X)"',
  "'$(touch X)'",
  'a; touch X',
  'a | touch X',
  'a && touch X',
  'line one\nline two\n',
  '\n',
  '*',
  '~',
  '~/x',
  '-n',
  '--help',
  '',
  ' ',
  '\\',
  '\\n',
  '$HOME',
  '${HOME}',
  '!',
  '#not a comment',
  'a=b',
  '> X',
  'héllo wörld ✓ 日本',
  '\t\r',
];

test('every hostile value reaches printf unchanged through a real sh -c, and nothing runs', () => {
  const dir = tempDir();
  for (const value of hostile) {
    const out = execFileSync('sh', ['-c', toShell(['printf', '%s', value])], { cwd: dir, encoding: 'utf8' });
    assert.equal(out, value, `value ${JSON.stringify(value)}`);
  }
  assert.equal(existsSync(path.join(dir, 'X')), false);
});

test('hostile values joined with and reach each command unchanged through a real sh -c', () => {
  const dir = tempDir();
  const out = execFileSync('sh', ['-c', and(...hostile.map((v) => ['printf', '%s|', v]))], { cwd: dir, encoding: 'utf8' });
  assert.equal(out, hostile.map((v) => `${v}|`).join(''));
  assert.equal(existsSync(path.join(dir, 'X')), false);
});

test('inDir runs the commands in a directory whose name is hostile', () => {
  const base = tempDir();
  const dir = path.join(base, "it's $(touch X) dir");
  execFileSync('mkdir', [dir]);
  const out = execFileSync('sh', ['-c', inDir(dir, ['pwd'])], { cwd: base, encoding: 'utf8' });
  assert.equal(out, `${dir}\n`);
  assert.equal(existsSync(path.join(base, 'X')), false);
});
