import type { Condition, KubeObject } from '../../kube/index.js';
import type { Logger } from '../../lib/log.js';
import { messageOf } from '../../lib/errors.js';
import { isTrue } from '../../status/conditions.js';
import type { Request } from '../../runtime/index.js';
import { kindKey, type Kind } from './kinds.js';

/** The CustomResourceDefinition fields read here. */
export interface Crd extends KubeObject {
  spec?: { group?: string; names?: { kind?: string }; versions?: { name: string; served?: boolean }[] };
  status?: { conditions?: Condition[] };
}

export const CRD_KIND = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' } as const;

export interface UnservedWakeOptions {
  /**
   * Starts watching CRDs; its events go to {@link UnservedWake.woken}. Called once, when the first
   * AppConfig waits for a kind (a cluster where every kind is served never caches CRDs).
   */
  watch: () => Promise<void>;
  /** The CRDs the watch holds (empty before it started). */
  crds: () => Crd[];
  /** Forgets what discovery said about a group-version (its kind just became served). */
  invalidate: (apiVersion: string) => void;
  logger: Logger;
}

/**
 * Which AppConfigs wait for which unserved kinds, and the CRD watch that wakes them: an AppConfig
 * naming a kind no CRD installs yet is reconciled again as soon as a CRD serving that kind is
 * established, not at its next periodic look (issue 19).
 *
 * @example
 *   wake.waitFor({ namespace: 'ns', name: 'app' }, [{ apiVersion: 'x.example.com/v1', kind: 'Foo' }])
 *   // a CRD for Foo established -> controller.watch's map calls wake.woken(crd) -> [{ namespace: 'ns', name: 'app' }]
 */
export class UnservedWake {
  /** App keys by the `apiVersion/kind` they wait for, and the kinds by app key. */
  private readonly apps = new Map<string, Set<string>>();
  private readonly kinds = new Map<string, string[]>();
  private watching = false;

  constructor(private readonly o: UnservedWakeOptions) {}

  /** Records that `app` now waits for `kinds` (replacing what it waited for; none: it waits for nothing). */
  waitFor(app: Request, kinds: Kind[]): void {
    const key = `${app.namespace ?? ''}/${app.name}`;
    for (const k of this.kinds.get(key) ?? []) {
      this.apps.get(k)?.delete(key);
      if (!this.apps.get(k)?.size) this.apps.delete(k);
    }
    const wanted = [...new Set(kinds.map(kindKey))];
    if (!wanted.length) {
      this.kinds.delete(key);
      return;
    }
    this.kinds.set(key, wanted);
    for (const k of wanted) this.apps.set(k, (this.apps.get(k) ?? new Set()).add(key));
    if (this.watching) return;
    this.watching = true;
    this.o.watch().catch((err: unknown) => {
      // Not fatal: the periodic look still finds the kind once it is served.
      this.watching = false;
      this.o.logger.warn(
        { err: messageOf(err) },
        'cannot watch CustomResourceDefinitions; unserved kinds are looked for periodically',
      );
    });
  }

  /**
   * The AppConfigs waiting for a kind `crd` serves, once it is established; discovery's answer for
   * those group-versions is dropped so their reconcile finds the kind.
   */
  woken(crd: Crd): Request[] {
    const served = this.servedBy(crd);
    const keys = new Set(served.flatMap((k) => [...(this.apps.get(kindKey(k)) ?? [])]));
    if (!keys.size) return [];
    for (const k of served) this.o.invalidate(k.apiVersion);
    return [...keys].map((key) => {
      const slash = key.indexOf('/');
      const namespace = key.slice(0, slash);
      return namespace ? { namespace, name: key.slice(slash + 1) } : { name: key.slice(slash + 1) };
    });
  }

  /**
   * Whether an established CRD serves `kind` although discovery did not list it yet (it lags a
   * moment behind the CRD's Established condition): worth looking again shortly.
   */
  established(kind: Kind): boolean {
    return this.o.crds().some((crd) => this.servedBy(crd).some((k) => kindKey(k) === kindKey(kind)));
  }

  private servedBy(crd: Crd): Kind[] {
    const { group, names, versions } = crd.spec ?? {};
    if (!group || !names?.kind || !isTrue(crd.status?.conditions, 'Established')) return [];
    return (versions ?? [])
      .filter((v) => v.served !== false)
      .map((v) => ({ apiVersion: `${group}/${v.name}`, kind: names.kind! }));
  }
}
