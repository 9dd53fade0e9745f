import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Availability } from './availability';

export interface FanOutRow {
  hosts: number;
  ferryMs: number;
  rawMs: number;
  ratio: number;
  ferryRunsMs: number[];
  rawRunsMs: number[];
  handshakesPerHost: number;
  stepsPerHost: number;
  workerPeakRssMiB: number;
}

export interface Results {
  machine: { cores: number; note: string };
  parameters: { only: string[]; hosts: number[]; runs: number; rolloutHosts: number; batch: number; p3Hosts: number; p6Hosts: number; p6Batch: number };
  startedAt: string;
  finishedAt?: string;
  fanOut: FanOutRow[];
  /** PC: `ferry deploy release` as a process (compiled CLI) against the raw baseline. */
  cli?: Array<{ hosts: number; cliMs: number; rawMs: number; ratio: number; cliRunsMs: number[]; rawRunsMs: number[] }>;
  /** PC: `ferry --help` cold start (compiled CLI) against a bare `node -e 0`. */
  cliStart?: { helpMs: number; nodeMs: number; helpRunsMs: number[] };
  rollout?: {
    hosts: number;
    batch: number;
    ferryMs: number;
    rawMs: number;
    ratio: number;
    ferryRunsMs: number[];
    rawRunsMs: number[];
    parentEvents: number;
    childEvents: number;
    eventsPerHost: number;
    parentEventsPerHost: number;
    parentFixedEvents: number;
    extrapolated500: { parentEvents: number; childEventsTotal: number };
    continueAsNewAfterEvents: number;
    continueAsNewAtHosts: number;
    runsFor500: number;
  };
  availability?: Availability;
  /** P6 at scale: one rollout of many hosts through a fresh worker. */
  scale?: { hosts: number; batch: number; rolloutMs: number; workerIdlePeakRssMiB: number; workerPeakRssMiB: number };
  recovery?: { hosts: number; readyMs: number; workflowTaskMs: number; activityMs: number; runs: Array<{ readyMs: number; workflowTaskMs: number; activityMs: number }> };
}

const s = (ms: number) => (ms / 1000).toFixed(2);

/** The results as a markdown report. */
export function markdown(r: Results): string {
  const lines = [
    '# Ferry benchmark results',
    '',
    `Run ${r.startedAt} to ${r.finishedAt ?? '?'} on ${r.machine.cores} cores${r.machine.note ? ` (${r.machine.note})` : ''}; medians of ${r.parameters.runs} runs.`,
    'Every ratio is Ferry against the raw baseline measured in the same run on the same local hosts.',
    `Figures run: ${r.parameters.only.join(', ')}.`,
    '',
  ];
  if (r.cli?.length) {
    lines.push(
      '## PC the CLI path: `ferry deploy release to production --version=V` as a process',
      '',
      'From the start of the `ferry` process (compiled JavaScript) to its exit, against parallel `scp` + `ssh tar xzf`.',
      '',
      '| hosts | ferry CLI (s) | raw (s) | ratio |',
      '| --- | --- | --- | --- |',
      ...r.cli.map((c) => `| ${c.hosts} | ${s(c.cliMs)} | ${s(c.rawMs)} | ${c.ratio.toFixed(2)} |`),
      '',
      ...(r.cliStart ? [`\`ferry --help\` cold start: ${s(r.cliStart.helpMs)} s (a bare \`node -e 0\`: ${s(r.cliStart.nodeMs)} s).`, ''] : []),
    );
  }
  if (r.fanOut.length) {
    lines.push(
      '## P1 fan-out, P4 SSH handshakes, P6 worker peak RSS',
      '',
      'Deploy of the example release (deployRelease through a worker) against parallel `scp` + `ssh host tar xzf`.',
      '',
      '| hosts | ferry (s) | raw (s) | ratio | SSH logins per host | steps per host | logins per step | worker peak RSS (MiB) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.fanOut.map(
        (f) =>
          `| ${f.hosts} | ${s(f.ferryMs)} | ${s(f.rawMs)} | ${f.ratio.toFixed(2)} | ${f.handshakesPerHost.toFixed(1)} | ${f.stepsPerHost.toFixed(1)} | ${(f.handshakesPerHost / f.stepsPerHost).toFixed(2)} | ${f.workerPeakRssMiB.toFixed(0)} |`,
      ),
      '',
    );
  }
  const ro = r.rollout;
  if (ro) {
    lines.push(
      '## P2 orchestration overhead',
      '',
      `A rollout (no node start) of ${ro.hosts} hosts in batches of ${ro.batch}: ${s(ro.ferryMs)} s against ${s(ro.rawMs)} s for the raw work batch after batch: ratio **${ro.ratio.toFixed(2)}**.`,
      '',
      '| history | events |',
      '| --- | ---: |',
      `| parent (rollout) | ${ro.parentEvents} |`,
      `| children (hostDeploy), all | ${ro.childEvents} |`,
      `| per host, parent + children | ${ro.eventsPerHost.toFixed(1)} |`,
      `| parent: fixed + per host | ${ro.parentFixedEvents.toFixed(0)} + ${ro.parentEventsPerHost.toFixed(1)} x hosts |`,
      `| 500 hosts, extrapolated: parent | ${ro.extrapolated500.parentEvents} |`,
      `| 500 hosts, extrapolated: children, all | ${ro.extrapolated500.childEventsTotal} |`,
      '',
      `The rollout continues as new between batches once its history holds ${ro.continueAsNewAfterEvents} events: after about ${ro.continueAsNewAtHosts} hosts here, so a 500-host rollout runs as ${ro.runsFor500} chained run(s), each far below Temporal's 51,200-event limit.`,
      '',
    );
  }
  const av = r.availability;
  if (av) {
    const row = (name: string, a: Availability['hot']) =>
      `| ${name} | ${a.hosts} | ${a.calls} | ${a.failed} | ${a.longestGapMs} | ${a.pidsUnchanged ? 'yes' : 'no'} | ${a.stateKept ? 'yes' : 'no'} | ${a.onTarget ? 'yes' : 'no'} | ${s(a.workflowMs)} |`;
    lines.push(
      '## P3 availability during a hot upgrade',
      '',
      `A hidden Erlang node calls \`hello:version()\` and \`hello_server:bump()\` on every node every ${av.intervalMs} ms (\`erpc:call\`, 1 s timeout each) while the nodes go from ${av.from} to ${av.to}, until 1 s after the workflow returned.`,
      `Hot upgrade: \`deployUpgrade\` (\`ferry deploy upgrade to production\`). Restart: \`deployRelease\` with start (what \`ferry update production --start-deploy\` runs after its build), on fresh ${av.from} nodes.`,
      '',
      `| path | hosts | calls | failed calls | longest gap (ms) | pids unchanged | counter kept | all on ${av.to} | workflow (s) |`,
      '| --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |',
      row('hot upgrade', av.hot),
      row('restart', av.restart),
      '',
      'The longest gap is the longest time a node went without a successful answer (calls every 10 ms make about 10 ms the floor on an idle machine).',
      '',
    );
  }
  const rc = r.recovery;
  if (rc) {
    lines.push(
      '## P5 recovery after kill -9 of the worker',
      '',
      `A rollout of ${rc.hosts} hosts in batches of 1; the worker is killed with SIGKILL once the first host is done, and started again at once.`,
      '',
      '| from the restart to | median (s) |',
      '| --- | ---: |',
      `| the new worker polls | ${s(rc.readyMs)} |`,
      `| its first workflow task completed | ${s(rc.workflowTaskMs)} |`,
      `| the first host step (activity) completed | ${s(rc.activityMs)} |`,
      '',
      'The step that was running when the worker died is retried once its 20 s heartbeat timeout expires.',
      '',
    );
  }
  const sc = r.scale;
  if (sc) {
    lines.push(
      '## P6 worker peak RSS at scale',
      '',
      `A fresh worker runs one rollout (no node start) of ${sc.hosts} hosts in batches of ${sc.batch}: ${s(sc.rolloutMs)} s; its peak RSS (VmHWM) was **${sc.workerPeakRssMiB.toFixed(0)} MiB** (${sc.workerIdlePeakRssMiB.toFixed(0)} MiB once started, before the rollout).`,
      '',
    );
  }
  if (r.fanOut.length) lines.push('![time against host count](fan-out.svg)', '');
  return lines.join('\n');
}

/** A plain SVG line plot of deploy time against host count, Ferry and raw. */
export function svg(rows: FanOutRow[]): string {
  const W = 560, H = 340, L = 60, R = 20, T = 30, B = 50;
  const maxX = Math.max(...rows.map((r) => r.hosts), 1);
  const maxY = Math.max(...rows.flatMap((r) => [r.ferryMs, r.rawMs]), 1) / 1000;
  const x = (v: number) => L + (v / maxX) * (W - L - R);
  const y = (v: number) => H - B - (v / maxY) * (H - T - B);
  const line = (key: 'ferryMs' | 'rawMs', color: string) => {
    const pts = rows.map((r) => `${x(r.hosts).toFixed(1)},${y(r[key] / 1000).toFixed(1)}`);
    return [`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`, ...pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${color}"/>`)].join('\n');
  };
  const ticks = 5;
  const yTicks = Array.from({ length: ticks + 1 }, (_, i) => (maxY * i) / ticks);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">Deploy time against host count (median)</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>
${yTicks.map((v) => `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text><line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/>`).join('\n')}
${rows.map((r) => `<text x="${x(r.hosts)}" y="${H - B + 16}" text-anchor="middle">${r.hosts}</text>`).join('\n')}
<text x="${W / 2}" y="${H - 10}" text-anchor="middle">hosts</text>
<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">seconds</text>
${line('ferryMs', '#1f77b4')}
${line('rawMs', '#d62728')}
<text x="${L + 10}" y="${T + 14}" fill="#1f77b4">ferry deployRelease</text>
<text x="${L + 10}" y="${T + 30}" fill="#d62728">raw: scp + ssh tar xzf</text>
</svg>
`;
}

export function writeResults(dir: string, r: Results): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, 'results.md'), markdown(r));
  if (r.fanOut.length) writeFileSync(join(dir, 'fan-out.svg'), svg(r.fanOut));
}
