/**
 * Deploy windows: `Mon-Fri 09:00-17:00 Europe/Berlin`. Pure and deterministic (Intl with a fixed time zone on a given
 * instant), so workflow code computes when a window opens from the workflow clock.
 */
export interface DeployWindow {
  /** Days of the week the window is open, 0 = Sunday. */
  days: number[];
  /** Minutes after local midnight: open from `start` up to (not including) `end`; `end` < `start` crosses midnight. */
  start: number;
  end: number;
  /** IANA time zone, e.g. Europe/Berlin or UTC. */
  zone: string;
  /** The text it was read from, for messages. */
  text: string;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether `zone` is a time zone Intl knows. */
export function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads `<days> <HH:MM>-<HH:MM> <zone>`: days as `Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun` or `daily`. Returns the window
 * or what is wrong with the text.
 */
export function parseWindow(text: string): DeployWindow | string {
  const m = /^\s*(\S+)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s+(\S+)\s*$/.exec(text);
  if (!m) return 'must be "<days> <HH:MM>-<HH:MM> <time zone>", e.g. "Mon-Fri 09:00-17:00 Europe/Berlin"';
  const [, dayText, h1, m1, h2, m2, zone] = m as unknown as [string, string, string, string, string, string, string];
  const days = parseDays(dayText.toLowerCase());
  if (typeof days === 'string') return days;
  const start = Number(h1) * 60 + Number(m1);
  const end = Number(h2) * 60 + Number(m2);
  if (Number(h1) > 23 || Number(h2) > 24 || Number(m1) > 59 || Number(m2) > 59 || end > 1440) return `"${h1}:${m1}-${h2}:${m2}" is not a time range (00:00 to 24:00)`;
  if (start === end) return 'the window opens and closes at the same time';
  if (!validZone(zone)) return `"${zone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`;
  return { days, start, end, zone, text: text.trim() };
}

function parseDays(text: string): number[] | string {
  if (text === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b] = part.split('-');
    const from = DAYS.indexOf(a ?? '');
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0) return `"${part}" is not a day or a range of days (Mon, Tue, Wed, Thu, Fri, Sat, Sun, e.g. Mon-Fri, or daily)`;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort();
}

/** The local weekday (0 = Sunday) and minute of the day at `ms` in `zone`. */
function local(ms: number, zone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: DAYS.indexOf(get('weekday').toLowerCase()), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Whether the window is open at `ms`. A window that crosses midnight belongs to the day it opens. */
export function isOpen(w: DeployWindow, ms: number): boolean {
  const { day, minute } = local(ms, w.zone);
  if (w.start < w.end) return w.days.includes(day) && minute >= w.start && minute < w.end;
  return (w.days.includes(day) && minute >= w.start) || (w.days.includes((day + 6) % 7) && minute < w.end);
}

/** When the window next opens at or after `ms` (ms itself when open), searched minute by minute for up to 8 days. */
export function nextOpening(w: DeployWindow, ms: number): number {
  if (isOpen(w, ms)) return ms;
  let t = Math.ceil(ms / 60_000) * 60_000;
  for (let i = 0; i < 8 * 1440; i++, t += 60_000) if (isOpen(w, t)) return t;
  return t;
}
