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
 * the function with path `/rest`. Besides `<name>.<namespace>.<domain>`, the names a client in the
 * cluster calls a Function's own Service by are Hosts too, since in proxy mode that Service's
 * endpoints are the activators: `<name>.<namespace>.svc[.<cluster domain>]` before the path, and
 * `<name>.<namespace>` after it (any two-label host could be that; a bare `<name>` says no
 * namespace: as with Knative, it is not routed). String operations only: this runs on every request.
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
    let h = host ?? '';
    if (h) {
      const colon = h.lastIndexOf(':');
      if (colon > 0 && h.indexOf(']') < colon) h = h.slice(0, colon);
      h = h.toLowerCase();
      if (h.endsWith('.')) h = h.slice(0, -1);
      const key = h.endsWith(this.suffix) ? nameAndNamespace(h.slice(0, -this.suffix.length)) : serviceName(h, true);
      if (key) return { key, path: url || '/' };
    }
    return this.byPath(url) ?? this.byShortName(h, url);
  }

  /** `name.namespace` (the search-path form of a Service's name) only when the path names no function. */
  private byShortName(host: string, url: string): Route | undefined {
    const key = host ? serviceName(host, false) : undefined;
    return key ? { key, path: url || '/' } : undefined;
  }

  private byPath(url: string): Route | undefined {
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
    return {
      key: `${namespace}/${name}`,
      path: rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest,
      prefix: url.slice(0, end),
    };
  }

  /** The URL a function is served at by Host, for status and CLI output. */
  url(namespace: string, name: string, port?: number): string {
    return `http://${name}.${namespace}.${this.domain}${port ? `:${port}` : ''}`;
  }
}

/** `name.namespace` → `namespace/name`; undefined unless exactly two non-empty labels. */
function nameAndNamespace(labels: string): string | undefined {
  const dot = labels.indexOf('.');
  if (dot <= 0 || dot === labels.length - 1 || labels.indexOf('.', dot + 1) >= 0) return undefined;
  return `${labels.slice(dot + 1)}/${labels.slice(0, dot)}`;
}

/**
 * A Service's cluster names: `name.namespace.svc`, `name.namespace.svc.<cluster domain>` (with
 * `svc`), or `name.namespace` (without).
 */
function serviceName(host: string, svc: boolean): string | undefined {
  const at = host.indexOf('.svc');
  const isSvc = at > 0 && (host.length === at + 4 || host.charCodeAt(at + 4) === 46);
  if (isSvc !== svc) return undefined;
  const labels = isSvc ? host.slice(0, at) : host;
  // Two labels of letters, digits and '-' (an IP address has four, all digits).
  return /^[a-z0-9-]+\.[a-z0-9-]+$/.test(labels) && !/^[0-9.]+$/.test(labels) ? nameAndNamespace(labels) : undefined;
}
