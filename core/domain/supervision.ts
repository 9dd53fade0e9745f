/**
 * What a node runs, read from the node itself before and after a hot upgrade: the applications of its release and
 * the supervised children of their supervision trees. Pure and reachable from workflow code.
 */
export interface NodeSupervision {
  /** The release the node runs (current, else permanent). */
  release: string;
  /** The release's applications that must run: those its boot script starts (not `load`-only, not included). */
  expected: string[];
  /** application:which_applications() on the node. */
  running: string[];
  /**
   * Supervised children by key `<supervisor>/<child id>` (the supervisor's registered name, else its own key), and
   * each application's top supervisor by the application's name: the application and the pid (or `restarting`,
   * `undefined`). Dynamic children of simple_one_for_one supervisors have no id and are not listed.
   */
  children: Record<string, { app: string; pid: string }>;
  /** From the release's relup: applications stopped or started on purpose, and children terminated or restarted on purpose. */
  intended: { apps: string[]; children: string[] };
}

const PID = /^<\d+\.\d+\.\d+>$/;
const MAX_LISTED = 5;

/**
 * What went wrong in a hot upgrade, seen by comparing the node's supervision before and after it: every application
 * of the new release that is not running, and every child that had a pid before and has another one (or none) after,
 * unless the relup stopped or restarted it on purpose. Children the upgrade added are new keys and never count.
 * Empty when the upgrade left every process alone.
 */
export function supervisionProblems(before: NodeSupervision, after: NodeSupervision): string[] {
  const notRunning = after.expected.filter((a) => !after.running.includes(a)).map((a) => `application ${a} is not running`);
  const restarted = Object.entries(after.children).flatMap(([key, now]) => {
    const was = before.children[key];
    if (!was || !PID.test(was.pid) || was.pid === now.pid) return [];
    if (after.intended.apps.includes(now.app) || after.intended.children.includes(key)) return [];
    return [PID.test(now.pid) ? `${key} (${now.app}) restarted (pid ${was.pid} -> ${now.pid})` : `${key} (${now.app}) is ${now.pid}, it was ${was.pid}`];
  });
  const more = restarted.length > MAX_LISTED ? [`${restarted.length - MAX_LISTED} more children restarted`] : [];
  return [...notRunning, ...restarted.slice(0, MAX_LISTED), ...more];
}
