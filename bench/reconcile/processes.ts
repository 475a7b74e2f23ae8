/**
 * Resident memory of a process's descendants, read from /proc (Linux): the bench reports the
 * controller's CUE evaluator (`trellis-cue`, a child of the controller) beside the controller.
 */
import { readdir, readFile } from 'node:fs/promises';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
}

async function processes(): Promise<Proc[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  const all = await Promise.all(
    pids.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        const close = stat.lastIndexOf(')');
        const ppid = Number(stat.slice(close + 2).split(' ')[1]);
        return { pid: Number(pid), comm: stat.slice(stat.indexOf('(') + 1, close), ppid };
      } catch {
        return undefined; // it ended meanwhile
      }
    }),
  );
  return all.filter((p): p is Proc => p !== undefined);
}

/** The process ids of `root`'s descendants named `comm` (e.g. a controller's `trellis-cue` evaluator). */
export async function descendants(root: number, comm: string): Promise<number[]> {
  const all = await processes();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      if (c.comm === comm) found.push(c.pid);
      walk(c.pid);
    }
  };
  walk(root);
  return found;
}

/** The resident memory (bytes) of process `pid` (`VmRSS`); 0 when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** The summed RSS (bytes) of `root`'s descendants named `comm`; 0 when there are none (e.g. the wasm engine). */
export async function descendantsRss(root: number, comm: string): Promise<number> {
  let rss = 0;
  for (const pid of await descendants(root, comm)) rss += await rssOf(pid);
  return rss;
}
