import assert from 'node:assert/strict';
import { test } from 'node:test';
import { supervisionProblems, type NodeSupervision } from '../../../core/domain/supervision';

const node = (over: Partial<NodeSupervision> = {}, children: NodeSupervision['children'] = {}): NodeSupervision => ({
  release: '0.2.0',
  expected: ['kernel', 'hello'],
  running: ['kernel', 'hello'],
  children: { hello: { app: 'hello', pid: '<0.90.0>' }, 'hello_sup/hello_server': { app: 'hello', pid: '<0.91.0>' }, ...children },
  intended: { apps: [], children: [] },
  ...over,
});

test('nothing changed: no problem; a child the upgrade added is not a restart', () => {
  assert.deepEqual(supervisionProblems(node(), node({ release: '0.3.0' }, { 'hello_sup/hello_ticker': { app: 'hello', pid: '<0.120.0>' } })), []);
});

test('an application of the new release that does not run is named', () => {
  assert.deepEqual(supervisionProblems(node(), node({ running: ['kernel'] })), ['application hello is not running']);
});

test('a child with another pid after the upgrade restarted; one with no pid is named with what it is', () => {
  const after = node({}, { 'hello_sup/hello_server': { app: 'hello', pid: '<0.130.0>' }, hello: { app: 'hello', pid: 'restarting' } });
  assert.deepEqual(supervisionProblems(node(), after), [
    'hello (hello) is restarting, it was <0.90.0>',
    'hello_sup/hello_server (hello) restarted (pid <0.91.0> -> <0.130.0>)',
  ]);
});

test('children the relup restarts on purpose do not count: restart_application, supervisor restart_child', () => {
  const after = node({}, { 'hello_sup/hello_server': { app: 'hello', pid: '<0.130.0>' } });
  assert.deepEqual(supervisionProblems(node(), { ...after, intended: { apps: ['hello'], children: [] } }), []);
  assert.deepEqual(supervisionProblems(node(), { ...after, intended: { apps: [], children: ['hello_sup/hello_server'] } }), []);
});

test('a child that had no pid before (a temporary one that ended) does not count', () => {
  assert.deepEqual(supervisionProblems(node({}, { 'hello_sup/job': { app: 'hello', pid: 'undefined' } }), node({}, { 'hello_sup/job': { app: 'hello', pid: '<0.200.0>' } })), []);
});

test('many restarted children are cut after five, with a count of the rest', () => {
  const many = (base: number) => Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`pool/w${i}`, { app: 'hello', pid: `<0.${base + i}.0>` }]));
  const problems = supervisionProblems(node({}, many(300)), node({}, many(400)));
  assert.equal(problems.length, 6);
  assert.equal(problems[5], '3 more children restarted');
});
