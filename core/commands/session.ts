import type { Argv } from './shell';

/** The line every remote command prints first on stderr: `ferry-session <id>`, the session sshd started it in. */
export const SESSION_LINE = /^ferry-session (\d+)\n/m;

/**
 * The command line as the pool sends it: it first prints its session id (the login shell that sshd starts is the leader
 * of a new session, so `$$` is that id), then runs `line` unchanged.
 */
export const announceSession = (line: string): string => `echo ferry-session $$ >&2; ${line}`;

/**
 * Stops what is left of a cancelled command: every process of its session gets TERM, and KILL after 2 s if it is still
 * there. A daemon that left the session (a started node) is untouched. Without pkill, the session's process group is
 * signalled instead. Repeatable: a session that is gone is left alone.
 */
export const terminateSession = (session: number): Argv => [
  'sh',
  '-c',
  [
    's=$1',
    'pkill -TERM -s "$s" 2>/dev/null || kill -TERM -- "-$s" 2>/dev/null',
    'i=0; while [ $i -lt 20 ] && pgrep -s "$s" >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done',
    'pkill -KILL -s "$s" 2>/dev/null || kill -KILL -- "-$s" 2>/dev/null',
    'exit 0',
  ].join('\n'),
  'terminate',
  String(Math.trunc(session)),
];
