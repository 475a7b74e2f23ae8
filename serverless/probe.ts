import http from 'node:http';
import net from 'node:net';

export interface ProbeTarget {
  host: string;
  port: number;
  /** HTTP path to GET; without it the probe is a TCP connect. */
  path?: string;
}

/**
 * One readiness probe: true when the instance accepts a TCP connection (no `path`) or answers an
 * HTTP GET of `path` with a status below 500. Never rejects.
 *
 * @example
 *   await probeOnce({ host: '127.0.0.1', port: 8080 }, 500)   // → true once the handler listens
 */
export function probeOnce(target: ProbeTarget, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const conn: { destroy(): void } =
      target.path === undefined
        ? net.connect({ host: target.host, port: target.port }, () => finish(true)).on('error', () => finish(false))
        : http
            .get(
              {
                host: target.host,
                port: target.port,
                path: target.path,
                agent: false,
                headers: { 'user-agent': 'trellis-probe', connection: 'close' },
              },
              (res) => {
                res.resume();
                finish((res.statusCode ?? 500) < 500);
              },
            )
            .on('error', () => finish(false));
  });
}
