import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSupervision, supervision } from '../../../core/commands/supervision';
import { releaseLayout } from '../../../core/domain/host';

test('supervision evaluates one constant Erlang expression on the node through the control script (relx eval, mix rpc); it has no backslash', () => {
  const argv = supervision(releaseLayout('/opt/apps', 'hello'));
  assert.deepEqual(argv.slice(-2, -1), ['ferry-erl']);
  const expression = argv.at(-1)!;
  assert.match(expression, /^begin\n[\s\S]*\nend\.$/);
  assert.ok(!expression.includes('\\'));
});

test('parseSupervision reads the facts relx eval prints', () => {
  const out =
    '["release 0.3.0", "expected kernel", "expected hello", "running hello", "running kernel", "child hello hello <0.276.0>", ' +
    '"child hello hello_sup/hello_server <0.277.0>", "child hello hello_sup/{pool,1} restarting", "intended-app extra", "intended-child hello_sup/hello_ticker"]\n';
  assert.deepEqual(parseSupervision(out), {
    release: '0.3.0',
    expected: ['kernel', 'hello'],
    running: ['hello', 'kernel'],
    children: {
      hello: { app: 'hello', pid: '<0.276.0>' },
      'hello_sup/hello_server': { app: 'hello', pid: '<0.277.0>' },
      'hello_sup/{pool,1}': { app: 'hello', pid: 'restarting' },
    },
    intended: { apps: ['extra'], children: ['hello_sup/hello_ticker'] },
  });
});

test('parseSupervision returns nothing for a failed evaluation', () => {
  assert.equal(parseSupervision(`{error, "*** eval: {'EXIT',{{badmatch,{error,enoent}},"}`), undefined);
  assert.equal(parseSupervision('Node is not running!'), undefined);
});
