import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpen, nextOpening, parseWindow, type DeployWindow } from '../../../core/domain/window';

const w = (text: string): DeployWindow => {
  const r = parseWindow(text);
  if (typeof r === 'string') assert.fail(r);
  return r;
};
const at = (iso: string) => Date.parse(iso);

test('parses days, hours and a zone', () => {
  assert.deepEqual(w('Mon-Fri 09:00-17:00 Europe/Berlin'), { days: [1, 2, 3, 4, 5], start: 540, end: 1020, zone: 'Europe/Berlin', text: 'Mon-Fri 09:00-17:00 Europe/Berlin' });
  assert.deepEqual(w('Sat-Mon 22:00-02:00 UTC').days, [0, 1, 6]);
  assert.deepEqual(w('daily 00:00-24:00 UTC').days, [0, 1, 2, 3, 4, 5, 6]);
});

test('bad windows say what is wrong', () => {
  assert.match(parseWindow('weekdays') as string, /^must be "<days> <HH:MM>-<HH:MM> <time zone>"/);
  assert.match(parseWindow('Mon-Fri 09:00-17:00 Mars/Olympus') as string, /"Mars\/Olympus" is not an IANA time zone/);
  assert.match(parseWindow('Mon-Fry 09:00-17:00 UTC') as string, /"mon-fry" is not a day/);
  assert.match(parseWindow('Mon 25:00-26:00 UTC') as string, /is not a time range/);
});

test('open in local time of the zone, daylight saving included', () => {
  const berlin = w('Mon-Fri 09:00-17:00 Europe/Berlin');
  assert.equal(isOpen(berlin, at('2026-12-07T08:30:00Z')), true, 'Monday 09:30 in Berlin (UTC+1)');
  assert.equal(isOpen(berlin, at('2026-12-07T07:30:00Z')), false, 'Monday 08:30 in Berlin');
  assert.equal(isOpen(berlin, at('2026-07-06T07:30:00Z')), true, 'Monday 09:30 in summer (UTC+2)');
  assert.equal(isOpen(berlin, at('2026-12-12T10:00:00Z')), false, 'Saturday');
});

test('the next opening: later today, tomorrow, after the weekend; now when open', () => {
  const berlin = w('Mon-Fri 09:00-17:00 Europe/Berlin');
  assert.equal(nextOpening(berlin, at('2026-12-07T10:00:00Z')), at('2026-12-07T10:00:00Z'));
  assert.equal(nextOpening(berlin, at('2026-12-07T17:00:00Z')), at('2026-12-08T08:00:00Z'));
  assert.equal(nextOpening(berlin, at('2026-12-11T16:00:00Z')), at('2026-12-14T08:00:00Z'));
  const night = w('daily 22:00-02:00 UTC');
  assert.equal(isOpen(night, at('2026-12-08T01:00:00Z')), true);
  assert.equal(nextOpening(night, at('2026-12-08T03:00:00.500Z')), at('2026-12-08T22:00:00Z'));
});
