/** Seconds per unit of a duration: `s`, `m`, `h`, `d`. */
const UNIT = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/**
 * Reads a duration such as `15m`, `2h`, `1h30m`, `90s` or `90` (seconds) into seconds; undefined when the text is not
 * one, or is zero. Pure.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : undefined;
  if (!/^(?:\d+[smhd])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * UNIT[u as keyof typeof UNIT];
  return seconds > 0 ? seconds : undefined;
}
