/**
 * The dashboard's JSON API as the browser reads it (the contract: /work/team/dashboard-api.md, owned by the
 * server side; docs/dashboard.md lists the paths). Types only: nothing here runs.
 */

export type Tri = 'True' | 'False' | 'Unknown';

/** Every /api error: the HTTP status and this body. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export interface Session {
  mode: 'cli' | 'chart';
  user?: { username: string; groups: string[] };
  /** Present when the dashboard serves one namespace only. */
  namespace?: string;
  csrfToken: string;
}

export interface AppRow {
  namespace: string;
  name: string;
  synced: Tri;
  ready: Tri;
  /** The reason and message of the condition that is not True; "" when healthy. */
  reason: string;
  created?: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Child {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  component?: string;
  /** `2/2 ready`, `Ready=True`, `present`, `missing`, `forbidden` */
  health: string;
  healthy?: boolean;
}

export interface EventItem {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  time: string;
  object: { kind?: string; name?: string };
}

export interface Permissions {
  rollback: boolean;
  reason?: string;
}

export interface ComponentNode {
  name: string;
  revision?: string;
  pinned: boolean;
  workload?: Child;
  traits: Child[];
}

export interface AppDetail {
  app: AppRow & { conditions: Condition[] };
  components: ComponentNode[];
  children: Child[];
  /** Newest first. */
  events: EventItem[];
  permissions: Permissions;
}

export interface Revision {
  name: string;
  revision: number;
  created?: string;
  current: boolean;
  image?: string;
}

export interface Revisions {
  component: string;
  namespace: string;
  current?: string;
  pinned: boolean;
  /** Newest first. */
  revisions: Revision[];
  permissions: Permissions;
}

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface RevisionDiff {
  from: string;
  to: string;
  changes: FieldChange[];
}

export interface RollbackResult {
  message: string;
  revision: string;
}

export interface ProvenanceField {
  path: string;
  value: unknown;
  /** What set it, as `trellis render --provenance` says it, e.g. `trait scaler (replicas)`. */
  origin: string;
}

export interface RenderedObject {
  object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
  fields: ProvenanceField[];
}

export interface Series {
  at: string[];
  instances: number[];
  concurrency: number[];
  requests: number[];
  coldStarts: number[];
}

export interface FunctionItem {
  namespace: string;
  name: string;
  ready: Tri;
  reason?: string;
  url?: string;
  replicas?: number;
  readyReplicas?: number;
  desiredReplicas?: number;
  latestReadyRevision?: string;
  traffic: { revision?: string; percent?: number; tag?: string }[];
  series: Series;
}

export interface Functions {
  items: FunctionItem[];
  source: 'activator' | 'status';
  intervalSeconds: number;
  windowSeconds: number;
  /** The Function kind is not served, or the user may not list it: a sentence to show. */
  unavailable?: string;
}

export interface GitSyncItem {
  namespace: string;
  name: string;
  url?: string;
  ref?: string;
  path?: string;
  ready: Tri;
  reason?: string;
  message?: string;
  lastFetchedCommit?: string;
  lastAppliedCommit?: string;
  lastSyncTime?: string;
  history: { time: string; commit?: string; result: string; message?: string; applied?: number; pruned?: number }[];
}

export interface GitSyncs {
  items: GitSyncItem[];
  /** The GitSync kind is not served, or the user may not list it: a sentence to show. */
  unavailable?: string;
}

/** One `change` message of /live. */
export interface Change {
  namespace: string;
  kind: string;
  name: string;
}
