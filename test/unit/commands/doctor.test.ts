import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as doctor from '../../../core/commands/doctor';
import { toShell } from '../../../core/commands/shell';
import { project } from '../../support/project';

const sh = (command: string, env: NodeJS.ProcessEnv = process.env) => spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env });

test('doctor.writable creates a missing directory and succeeds when it can write there', () => {
  const dir = path.join(project(), 'a b', 'c');
  assert.equal(sh(toShell(doctor.writable(dir))).status, 0);
  assert.ok(existsSync(dir));
});

test('doctor.writable fails where the directory cannot be made', () => {
  const file = path.join(project({ f: 'x' }), 'f');
  assert.notEqual(sh(toShell(doctor.writable(path.join(file, 'sub')))).status, 0);
});

test('doctor.freeKb reads the nearest existing parent of a missing directory', () => {
  const r = sh(toShell(doctor.freeKb(path.join(project(), 'not', 'yet'))));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
});

test('doctor.toolVersion prints the version of a tool on the PATH', () => {
  const r = sh(toShell(doctor.toolVersion('git')));
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^git version /);
});

test('doctor.toolVersion exits 127 when the tool is not on the PATH, and prints that PATH', () => {
  // A PATH with a shell and nothing else, as a build host whose login PATH lacks rebar3.
  const bin = path.join(project(), 'bin');
  mkdirSync(bin);
  symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const r = sh(toShell(doctor.toolVersion('rebar3')), { PATH: bin });
  assert.equal(r.status, 127);
  assert.equal(r.stdout, `PATH=${bin}\n`);
});
