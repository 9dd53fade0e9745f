/**
 * The only place that quotes. Remote commands are built as argv from validated values;
 * they become one shell string here, once, when they are sent.
 */

/** One remote command as argv; it is quoted only when it becomes a shell string. */
export type Argv = readonly string[];

/** POSIX single-quoting: any string without NUL reaches the program unchanged through `sh -c`. */
export function quote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain NUL');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export const toShell = (argv: Argv): string => argv.map(quote).join(' ');

/** `a && b && c`, as Kamal's `combine` joins commands. */
export const and = (...commands: Argv[]): string => commands.map(toShell).join(' && ');

/** Runs `command` in `dir`: `cd dir && command`. */
export const inDir = (dir: string, ...commands: Argv[]): string => and(['cd', dir], ...commands);
