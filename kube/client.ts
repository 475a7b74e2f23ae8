import type http from 'node:http';
import { Connection, type ConnectionOptions, type Impersonation, type RequestOptions } from './connection.js';
import { KubeApiError, isNotFound } from './errors.js';
import { ResourceMapper, type ResourceInfo } from './mapper.js';
import { describeRef, type KubeObject, type ListResult, type ObjectRef, type WatchEvent } from './types.js';

export interface KubeClientOptions extends ConnectionOptions {
  /** Field manager for server-side apply. @default 'trellis' */
  fieldManager?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; all pages are fetched. @default 500 */
  limit?: number;
  /** Abandons the list (it rejects with an AbortError). @default none */
  signal?: AbortSignal;
}

export interface ApplyOptions {
  /** @default the client's field manager */
  fieldManager?: string;
  /** Take ownership of fields another manager owns. @default true */
  force?: boolean;
  dryRun?: boolean;
  /** e.g. `status` */
  subresource?: string;
}

export interface DeleteOptions {
  /** @default 'Background' */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only this exact object (uid) or version (resourceVersion). */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Seconds the object gets to terminate (pods); 0 removes it at once. @default the object's own */
  gracePeriodSeconds?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** @default true */
  allowWatchBookmarks?: boolean;
  /** The server closes the watch after this long. @default 300 */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** The kind is not served by the API server (CRD missing, or a typo in apiVersion/kind). */
export class UnknownKindError extends KubeApiError {
  constructor(apiVersion: string, kind: string) {
    super(404, 'NoKindMatch', `the server does not serve kind "${kind}" in apiVersion "${apiVersion}"`);
    this.name = 'UnknownKindError';
  }
}

/**
 * The one Kubernetes client of the project: any kind by apiVersion + kind, server-side apply with a
 * field manager, paginated lists, streaming watches, typed errors. Generic over object shapes; it
 * never needs generated per-kind code.
 *
 * @example
 *   const kube = await KubeClient.connect({ kubeconfig, fieldManager: 'trellis' })
 *   await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ns' }, data: {} })
 */
export class KubeClient {
  readonly fieldManager: string;
  readonly mapper: ResourceMapper;

  constructor(
    readonly connection: Connection,
    options: { fieldManager?: string } = {},
  ) {
    this.fieldManager = options.fieldManager ?? 'trellis';
    this.mapper = new ResourceMapper(connection);
  }

  static async connect(options: KubeClientOptions = {}): Promise<KubeClient> {
    return new KubeClient(await Connection.open(options), options);
  }

  /** A client like this one on a socket pool of its own ({@link Connection.withOwnSockets}); close it with `connection.close()`. */
  withOwnSockets(maxSockets?: number): KubeClient {
    const client = new KubeClient(this.connection.withOwnSockets(maxSockets), { fieldManager: this.fieldManager });
    (client as { mapper: ResourceMapper }).mapper = this.mapper;
    return client;
  }

  /** A client sharing this connection but writing as another field manager. */
  withFieldManager(fieldManager: string): KubeClient {
    const client = new KubeClient(this.connection, { fieldManager });
    (client as { mapper: ResourceMapper }).mapper = this.mapper;
    return client;
  }

  /**
   * A client acting as another identity (Kubernetes impersonation) for every request: it shares
   * this client's socket pool, field manager and discovery cache (discovery stays this client's
   * own). The API server checks that this client's user may `impersonate` the identity — for a
   * ServiceAccount, `impersonate` on `serviceaccounts` — and then authorizes each request as it.
   * Closing it leaves this client's connection open.
   *
   * @param groups @default [] (for a ServiceAccount the API server adds its groups itself)
   * @example
   *   const asTeam = kube.impersonate(serviceAccountUser('team-a', 'deployer'))
   *   await asTeam.apply(configMap)   // 403 unless team-a/deployer may patch configmaps
   */
  impersonate(user: string, groups: string[] = []): KubeClient {
    const client = new KubeClient(this.connection.impersonating({ user, groups }), { fieldManager: this.fieldManager });
    (client as { mapper: ResourceMapper }).mapper = this.mapper;
    return client;
  }

  /** Who this client acts as, when it impersonates (see {@link impersonate}). */
  get impersonation(): Impersonation | undefined {
    return this.connection.impersonation;
  }

  close(): void {
    this.connection.close();
  }

  /** Discovery facts about a kind; throws {@link UnknownKindError} when it is not served. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const info = await this.mapper.resolve(apiVersion, kind);
    if (!info) throw new UnknownKindError(apiVersion, kind);
    return info;
  }

  /** URL path of a collection (no name) or of one object, optionally a subresource. */
  async path(
    ref: { apiVersion: string; kind: string; namespace?: string; name?: string },
    subresource?: string,
  ): Promise<string> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const ns = info.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
    const name = ref.name ? `/${encodeURIComponent(ref.name)}` : '';
    return `${base}${ns}/${info.resource}${name}${subresource ? `/${subresource}` : ''}`;
  }

  request<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.connection.request<T>(path, options);
  }

  /** The response to a request whatever its status (service and pod proxies, logs): see {@link Connection.raw}. */
  raw(path: string, options?: RequestOptions): Promise<http.IncomingMessage> {
    return this.connection.raw(path, options);
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, subresource?: string): Promise<T> {
    return this.connection.request<T>(await this.path(ref, subresource));
  }

  /** Like {@link get}, but `undefined` when the object (or its kind) does not exist. */
  async getOrNull<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists every page. Items get `apiVersion`/`kind` filled in (the server leaves them out). */
  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<ListResult<T>> {
    const path = await this.path({ apiVersion, kind, ...(options.namespace ? { namespace: options.namespace } : {}) });
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.connection.request<{
        items: T[];
        metadata: { resourceVersion?: string; continue?: string };
      }>(path, {
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: options.limit ?? 500,
          continue: continueToken,
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const item of page.items) items.push({ ...item, apiVersion, kind });
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (continueToken);
    return { items, resourceVersion };
  }

  /** Server-side apply: the object states exactly the fields this manager owns. */
  async apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions = {}): Promise<T> {
    if (!obj.metadata?.name)
      throw new KubeApiError(422, 'Invalid', `${describeRef(obj)}: metadata.name is required for apply`);
    const path = await this.path(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      },
      options.subresource,
    );
    return this.connection.request<T>(path, {
      method: 'PATCH',
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: {
        fieldManager: options.fieldManager ?? this.fieldManager,
        force: options.force ?? true,
        dryRun: options.dryRun ? 'All' : undefined,
      },
    });
  }

  /** Server-side apply of the `status` subresource. */
  applyStatus<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options: Omit<ApplyOptions, 'subresource'> = {},
  ): Promise<T> {
    return this.apply<T>(obj, { ...options, subresource: 'status' });
  }

  /**
   * POST: creates the object, or fails with `AlreadyExists` (409) when one of that name exists.
   * `fieldValidation: 'Strict'` makes a field the schema does not declare an error (400, `unknown field
   * "spec.foo"`) instead of being dropped silently. @default the server's (`Warn`: dropped)
   */
  async create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options: { dryRun?: boolean; fieldManager?: string; fieldValidation?: 'Strict' | 'Warn' | 'Ignore' } = {},
  ): Promise<T> {
    const path = await this.path({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    });
    const query = {
      fieldManager: options.fieldManager ?? this.fieldManager,
      dryRun: options.dryRun ? 'All' : undefined,
      fieldValidation: options.fieldValidation,
    };
    return this.connection.request<T>(path, { method: 'POST', body: obj, query });
  }

  /** PUT: replaces the object; fails with a conflict when `metadata.resourceVersion` is stale. */
  async update<T extends KubeObject = KubeObject>(obj: KubeObject, subresource?: string): Promise<T> {
    const path = await this.path(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name ?? '',
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      },
      subresource,
    );
    return this.connection.request<T>(path, { method: 'PUT', body: obj, query: { fieldManager: this.fieldManager } });
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType = 'merge',
    subresource?: string,
  ): Promise<T> {
    return this.connection.request<T>(await this.path(ref, subresource), {
      method: 'PATCH',
      body: patch,
      contentType: PATCH_CONTENT[type],
      query: { fieldManager: this.fieldManager },
    });
  }

  /** Deletes one object; `false` when it was already gone. */
  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.connection.request(await this.path(ref), {
        method: 'DELETE',
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: options.propagationPolicy ?? 'Background',
          ...(options.preconditions ? { preconditions: options.preconditions } : {}),
          ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
        },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams watch events to `onEvent` until the server ends the watch (resolves) or it fails
   * (rejects; an expired resourceVersion rejects with a 410 {@link KubeApiError}). Use
   * {@link Informer} for a watch that restarts itself.
   */
  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const path = await this.path({ apiVersion, kind, ...(options.namespace ? { namespace: options.namespace } : {}) });
    const res = await this.connection.stream(path, {
      query: {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        timeoutSeconds: options.timeoutSeconds ?? 300,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(err);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while (!failed && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch (err) {
            fail(new Error(`watch ${path}: unreadable event: ${line.slice(0, 200)}`, { cause: err }));
            return;
          }
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            fail(new KubeApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error'));
            return;
          }
          if (event.type !== 'BOOKMARK') event.object = { ...event.object, apiVersion, kind } as T;
          try {
            onEvent(event);
          } catch (err) {
            fail(err);
            return;
          }
        }
      });
      res.on('end', () => (failed ? undefined : resolve()));
      res.on('error', fail);
      res.on('aborted', () => fail(Object.assign(new Error(`watch ${path} aborted`), { code: 'ECONNRESET' })));
      options.signal?.addEventListener(
        'abort',
        () => {
          if (!failed) {
            failed = true;
            res.destroy();
            resolve();
          }
        },
        { once: true },
      );
      // Aborted before the listener above was added (it would never hear it): end now.
      if (options.signal?.aborted && !failed) {
        failed = true;
        res.destroy();
        resolve();
      }
    });
  }
}
