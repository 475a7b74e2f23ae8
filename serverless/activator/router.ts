/** Where a request goes: the function's key and the path the instance sees. */
export interface Route {
  /** `namespace/name` */
  key: string;
  /** Path (with query) forwarded to the instance. */
  path: string;
  /** For path routing: the prefix taken off (`/<namespace>/<name>`). */
  prefix?: string;
}

export interface RouterOptions {
  /**
   * Host routing: `<name>.<namespace>.<domain>` (any port) reaches that function with the path
   * unchanged. @default 'fn.localhost'
   */
  domain?: string;
}

/**
 * Maps a request to a function, by Host first, then by path: `/<namespace>/<name>/rest` reaches
 * the function with path `/rest`. String operations only: this runs on every request.
 *
 * @example
 *   new Router({ domain: 'fn.localhost' }).route('hello.shop.fn.localhost:8080', '/x')  // { key: 'shop/hello', path: '/x' }
 *   new Router().route('127.0.0.1:8080', '/shop/hello/x?y=1')                      // { key: 'shop/hello', path: '/x?y=1' }
 */
export class Router {
  readonly domain: string;
  private readonly suffix: string;

  constructor(options: RouterOptions = {}) {
    this.domain = (options.domain ?? 'fn.localhost').toLowerCase().replace(/^\.+|\.+$/g, '');
    this.suffix = `.${this.domain}`;
  }

  /** `undefined` when the request names no function. */
  route(host: string | undefined, url: string): Route | undefined {
    if (host) {
      let h = host;
      const colon = h.lastIndexOf(':');
      if (colon > 0 && h.indexOf(']') < colon) h = h.slice(0, colon);
      h = h.toLowerCase();
      if (h.endsWith('.')) h = h.slice(0, -1);
      if (h.endsWith(this.suffix)) {
        const labels = h.slice(0, -this.suffix.length);
        const dot = labels.indexOf('.');
        if (dot > 0 && labels.indexOf('.', dot + 1) < 0) return { key: `${labels.slice(dot + 1)}/${labels.slice(0, dot)}`, path: url || '/' };
      }
    }
    if (url.charCodeAt(0) !== 47 /* / */) return undefined;
    const second = url.indexOf('/', 1);
    if (second < 2) return undefined;
    let end = second + 1;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 47 || c === 63 /* ? */) break;
      end++;
    }
    const namespace = url.slice(1, second);
    const name = url.slice(second + 1, end);
    if (!name || namespace.includes('?')) return undefined;
    const rest = url.slice(end);
    return { key: `${namespace}/${name}`, path: rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest, prefix: url.slice(0, end) };
  }

  /** The URL a function is served at by Host, for status and CLI output. */
  url(namespace: string, name: string, port?: number): string {
    return `http://${name}.${namespace}.${this.domain}${port ? `:${port}` : ''}`;
  }
}
