import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { main, program } from '../../../client/main';
import type { VerbContext } from '../../../client/verbs/common';
import { project } from '../../support/project';

const VALID_CONFIG = `APP="hello"
BUILD_HOST="127.0.0.1:2221"
BUILD_USER="root"
BUILD_AT="/opt/build"
PRODUCTION_HOSTS="127.0.0.1:2231"
PRODUCTION_USER="root"
DELIVER_TO="/opt/ferry"
`;

const validProject = () => project({ '.deliver/config': VALID_CONFIG, 'rebar.config': '{erl_opts, [debug_info]}.\n' });

/**
 * Runs `main(argv)` in `cwd` with Temporal pointed at a closed port, so a verb that got as far as connecting would fail
 * with "cannot reach Temporal" instead of the message under test. Returns the exit code and what went to stderr.
 */
async function ferry(argv: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  const oldCwd = process.cwd();
  const oldAddress = process.env.TEMPORAL_ADDRESS;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  process.chdir(cwd);
  process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
  try {
    const code = await main(argv);
    return { code, stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
    process.chdir(oldCwd);
    if (oldAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = oldAddress;
  }
}

/** The CLI's program with its output (and every subcommand's) collected instead of printed; actions never run here. */
function grammar(): { p: Command; out: string[]; err: string[]; codes: number[] } {
  const out: string[] = [];
  const err: string[] = [];
  const codes: number[] = [];
  const ctx: VerbContext = { out: { write: (t) => void out.push(t) }, cwd: '/nonexistent', env: {} };
  const p = program(ctx, (c) => void codes.push(c));
  const quiet = (c: Command): void => {
    c.configureOutput({ writeOut: (t) => void out.push(t), writeErr: (t) => void err.push(t), outputError: (t) => void err.push(t) });
    c.commands.forEach(quiet);
  };
  quiet(p);
  return { p, out, err, codes };
}

/** Parses argv with the program, expecting commander to stop it; returns the CommanderError. */
async function commanderStops(p: Command, argv: string[]): Promise<CommanderError> {
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (e) {
    assert.ok(e instanceof CommanderError, `expected a CommanderError, got ${String(e)}`);
    return e;
  }
  return assert.fail(`ferry ${argv.join(' ')} parsed without error`);
}

// --- the grammar, without running a verb ---

test('ferry --help prints usage with every verb and exits 0 through CommanderError', async () => {
  const { p, out, codes } = grammar();
  const e = await commanderStops(p, ['--help']);
  assert.equal(e.code, 'commander.helpDisplayed');
  assert.equal(e.exitCode, 0);
  const help = out.join('');
  assert.match(help, /^Usage: ferry \[options\] \[command\]/);
  for (const verb of ['build', 'deploy', 'upgrade', 'update', 'start', 'stop', 'restart', 'ping', 'version', 'show']) assert.match(help, new RegExp(`\\n  ${verb} `));
  assert.match(help, /Also: `ferry worker` runs a Ferry worker/);
  assert.deepEqual(codes, []);
});

test('ferry deploy --help describes --version and --start-deploy and exits 0', async () => {
  const { p, out } = grammar();
  const e = await commanderStops(p, ['deploy', '--help']);
  assert.equal(e.exitCode, 0);
  assert.match(out.join(''), /--version <version>/);
  assert.match(out.join(''), /--start-deploy/);
});

test('an unknown verb stops in the parser with a non-zero exit code', async () => {
  const { p } = grammar();
  const e = await commanderStops(p, ['launch', 'production']);
  assert.equal(e.code, 'commander.unknownCommand');
  assert.notEqual(e.exitCode, 0);
});

test('an unknown option stops in the parser with a non-zero exit code', async () => {
  const { p } = grammar();
  const e = await commanderStops(p, ['build', 'release', '--brnach=main']);
  assert.equal(e.code, 'commander.unknownOption');
  assert.notEqual(e.exitCode, 0);
});

test('build without an artifact stops in the parser with a non-zero exit code', async () => {
  const { p } = grammar();
  const e = await commanderStops(p, ['build']);
  assert.equal(e.code, 'commander.missingArgument');
  assert.notEqual(e.exitCode, 0);
});

// --- main: exit codes and messages ---

test('main returns 2 when commander rejects the command line', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'production', '--verison=0.1.0'], project());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown option '--verison=0\.1\.0'\n/);
});

test('deploy release without --version exits 2 asking for it, before reading the config', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'production'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: deploy release needs --version=V (see `ferry show releases`)\n' });
});

test('deploy of an unknown artifact exits 2 naming the ones that exist', async () => {
  const r = await ferry(['deploy', 'rollback', 'to', 'production', '--version=0.1.0'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: ferry deploy rollback: unknown artifact; use `ferry deploy release` or `ferry deploy upgrade`\n' });
});

test('build of an unknown artifact exits 2 naming the ones that exist', async () => {
  const r = await ferry(['build', 'rollback'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: ferry build rollback: unknown artifact; use `ferry build release` or `ferry build upgrade`\n' });
});

test('build upgrade without --from or --with exits 2 asking for one', async () => {
  const r = await ferry(['build', 'upgrade'], validProject());
  assert.deepEqual(r, {
    code: 2,
    stderr: 'ferry: build upgrade needs --from=<git revision> of the old release, or --with=<version> from the store (see `ferry show releases`)\n',
  });
});

test('build upgrade with a --with that is not a version exits 2 before contacting Temporal', async () => {
  const r = await ferry(['build', 'upgrade', '--with=0.1;x'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: invalid version "0.1;x": ";" is not allowed; use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit\n' });
});

test('build upgrade with a --from that looks like an option exits 2 naming --from', async () => {
  const r = await ferry(['build', 'upgrade', '--from=-x'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: invalid from "-x": use letters, digits, ".", "_", "-" and "/" only\n' });
});

test('build release with --from exits 2: it belongs to build upgrade', async () => {
  const r = await ferry(['build', 'release', '--from=0.1.0'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: --from, --to and --with are for `ferry build upgrade`\n' });
});

test('build upgrade with --skip-existing exits 2: it belongs to build release', async () => {
  const r = await ferry(['build', 'upgrade', '--with=0.1.0', '--skip-existing'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: --skip-existing is for `ferry build release`\n' });
});

test('deploy upgrade with words after the environment exits 2 with its usage', async () => {
  const r = await ferry(['deploy', 'upgrade', 'to', 'production', 'now'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry deploy upgrade to <environment> [--version=V]\n' });
});

test('deploy upgrade to an unknown host exits 2 listing the hosts', async () => {
  const r = await ferry(['deploy', 'upgrade', 'to', 'production', '--host=nope'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: unknown host "nope" in production: use one of 127.0.0.1:2231\n' });
});

test('upgrade with two environments exits 2 with its usage', async () => {
  const r = await ferry(['upgrade', 'on', 'staging', 'production'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry upgrade <environment> [--branch=B | --tag=T | --revision=R]\n' });
});

test('upgrade with an unknown --host exits 2 before reading any node', async () => {
  const r = await ferry(['upgrade', 'production', '--host=nope'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: unknown host "nope" in production: use one of 127.0.0.1:2231\n' });
});

test('show appups without a version exits 2 with its usage', async () => {
  const r = await ferry(['show', 'appups'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry show appups <version> (the version an upgrade goes to; see `ferry show releases`)\n' });
});

test('show relup without a version exits 2 with its usage; an unknown show names the four it knows', async () => {
  assert.deepEqual(await ferry(['show', 'relup'], validProject()), {
    code: 2,
    stderr: 'ferry: usage: ferry show relup <version> (the version an upgrade goes to; see `ferry show releases`)\n',
  });
  assert.deepEqual(await ferry(['show', 'relups', '0.3.0'], validProject()), {
    code: 2,
    stderr:
      'ferry: ferry show relups: unknown; try `ferry show releases`, `ferry show appups <version>`, `ferry show relup <version>` or `ferry show upgrade-plan --from=<version> --to=<version>`\n',
  });
});

test('deploy release without an environment exits 2 with the usage', async () => {
  const r = await ferry(['deploy', 'release', 'to', '--version=0.1.0'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry deploy release to <environment> --version=V\n' });
});

test('deploy release with words after the environment exits 2 with the usage', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'production', 'now', '--version=0.1.0'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry deploy release to <environment> --version=V\n' });
});

test('update with two environments exits 2 with the usage', async () => {
  const r = await ferry(['update', 'on', 'staging', 'production'], project());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: usage: ferry update <environment> [--branch=B] [--start-deploy]\n' });
});

test('deploy in a directory without .deliver/config exits 2 saying so', async () => {
  const dir = project();
  const r = await ferry(['deploy', 'release', 'to', 'production', '--version=0.1.0'], dir);
  assert.deepEqual(r, { code: 2, stderr: `ferry: no .deliver/config in ${dir}: create one (see README) or pass --config=FILE\n` });
});

test('--config naming a missing file exits 2 naming the file', async () => {
  const dir = project();
  const r = await ferry(['--config=other.cfg', 'deploy', 'release', 'to', 'production', '--version=0.1.0'], dir);
  assert.deepEqual(r, { code: 2, stderr: `ferry: config file ${dir}/other.cfg does not exist: check --config=FILE\n` });
});

test('build with a branch that has a shell metacharacter exits 2 before contacting Temporal', async () => {
  const r = await ferry(['build', 'release', '--branch=a;b'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: invalid branch "a;b": use letters, digits, ".", "_", "-" and "/" only\n' });
});

test('build with a tag that looks like an option exits 2 naming --tag', async () => {
  const r = await ferry(['build', 'release', '--tag=-x'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: invalid tag "-x": use letters, digits, ".", "_", "-" and "/" only\n' });
});

test('build with both --branch and --tag exits 2 asking for one of them', async () => {
  const r = await ferry(['build', 'release', '--branch=x', '--tag=y'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: give only one of --branch, --revision and --tag (got --branch, --tag)\n' });
});

test('deploy to an environment the config does not define exits 2 listing the defined ones', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'qa', '--version=0.1.0'], validProject());
  assert.deepEqual(r, {
    code: 2,
    stderr: 'ferry: unknown environment "qa": .deliver/config defines production (set QA_HOSTS to add one)\n',
  });
});

test('deploy of a version with a shell metacharacter exits 2 before contacting Temporal', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'production', '--version=0.1.0;rm'], validProject());
  assert.deepEqual(r, { code: 2, stderr: 'ferry: invalid version "0.1.0;rm": ";" is not allowed; use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit\n' });
});

test('deploy to a host the environment does not have exits 2 listing its hosts', async () => {
  const r = await ferry(['deploy', 'release', 'to', 'production', '--version=0.1.0', '--host=nope'], validProject());
  assert.deepEqual(r, {
    code: 2,
    stderr: 'ferry: unknown host "nope" in production: use one of 127.0.0.1:2231\n',
  });
});

test('update with an unknown --host exits 2 before building anything', async () => {
  const r = await ferry(['update', 'production', '--host=nope,127.0.0.1:2231'], validProject());
  assert.deepEqual(r, {
    code: 2,
    stderr: 'ferry: unknown host "nope" in production: use one of 127.0.0.1:2231\n',
  });
});
