/**
 * ApplicationRevisions (KubeVela's): every change of an Application's spec — components, traits,
 * properties, policies, workflow — is a new `<app>-v<N>` holding the Application as it was, owned
 * by it. Numbers only grow; an unchanged spec (or a metadata-only edit) makes none. `trellis rollback`
 * writes a revision's spec back, which makes the next revision.
 */
import type { Application, ApplicationRevision } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { API_VERSION } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { LABEL_APP_NAME } from '../../apis/labels.js';
import type { Informer, KubeClient, KubeObject } from '../../kube/index.js';
import { contentHash } from '../../lib/hash.js';
import { FIELD_MANAGER } from '../field-managers.js';

/** KubeVela's label with the hash of the revision's spec. */
export const LABEL_APP_REVISION_HASH = 'app.oam.dev/app-revision-hash';

export type AppRevision = ApplicationRevision & KubeObject;
export type VelaApplication = Application & KubeObject;

/** The hash a revision is known by: of the spec only. */
export function applicationHash(app: Application): string {
  return contentHash(app.spec).slice(0, 16);
}

/** The revisions of an Application, oldest first. */
export function revisionsOf(revisions: Informer<AppRevision>, app: Application): AppRevision[] {
  return revisions
    .list()
    .filter(
      (r) =>
        r.metadata.namespace === app.metadata.namespace && r.metadata.labels?.[LABEL_APP_NAME] === app.metadata.name,
    )
    .sort((a, b) => (a.spec?.revision ?? 0) - (b.spec?.revision ?? 0));
}

/**
 * The revision the Application's current spec is: the newest when its hash matches, else a new one
 * (`<app>-v<newest + 1>`), created now. A create that finds the name taken (a restart, a stale
 * cache) uses what is there when it holds the same spec.
 */
export async function currentRevision(
  kube: KubeClient,
  revisions: Informer<AppRevision>,
  app: VelaApplication,
): Promise<{ revision: AppRevision; created: boolean }> {
  const hash = applicationHash(app);
  const known = revisionsOf(revisions, app);
  const newest = known.at(-1);
  if (newest && newest.metadata.labels?.[LABEL_APP_REVISION_HASH] === hash) return { revision: newest, created: false };
  const n = (newest?.spec?.revision ?? 0) + 1;
  const revision: AppRevision = {
    apiVersion: API_VERSION,
    kind: 'ApplicationRevision',
    metadata: {
      name: `${app.metadata.name}-v${n}`,
      namespace: app.metadata.namespace!,
      labels: { [LABEL_APP_NAME]: app.metadata.name!, [LABEL_APP_REVISION_HASH]: hash },
      ownerReferences: [
        {
          apiVersion: app.apiVersion,
          kind: app.kind,
          name: app.metadata.name!,
          uid: app.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      revision: n,
      application: {
        metadata: {
          name: app.metadata.name,
          labels: app.metadata.labels ?? {},
          annotations: app.metadata.annotations ?? {},
        },
        spec: app.spec,
      },
    },
  };
  try {
    return { revision: await kube.create<AppRevision>(revision, { fieldManager: FIELD_MANAGER }), created: true };
  } catch (err) {
    const there = await kube.getOrNull<AppRevision>({
      apiVersion: API_VERSION,
      kind: 'ApplicationRevision',
      name: revision.metadata.name!,
      namespace: app.metadata.namespace!,
    });
    if (there?.metadata.labels?.[LABEL_APP_REVISION_HASH] === hash) return { revision: there, created: false };
    throw err;
  }
}
