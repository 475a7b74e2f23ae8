/**
 * Who is asking, and what they may do. Two modes:
 * - CLI (`trellis dashboard`): the server's client IS the user (their kubeconfig), so the API server
 *   decides every read and act; "may I?" questions go as SelfSubjectAccessReviews.
 * - chart (`--authenticate`, ADR 0018): every request carries the user's bearer token; the server
 *   checks it with a TokenReview and asks a SubjectAccessReview for that user before each read or
 *   act, which it then does with its own ServiceAccount (whose RBAC is only what the dashboard shows
 *   plus patching ApplicationConfigurations).
 */
import { createHash } from 'node:crypto';
import { isForbidden, type KubeClient } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';

/** What a SubjectAccessReview asks (authorization.k8s.io/v1 ResourceAttributes). */
export interface ResourceAttributes {
  verb: string;
  /** '' for the core group. */
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Decision {
  allowed: boolean;
  /** Why not, in a sentence a person can act on (absent when allowed). */
  reason?: string;
}

/** One request's asker. */
export interface Viewer {
  /** Who (chart mode: from the TokenReview; CLI mode: from a SelfSubjectReview when the server has it). */
  user?: UserInfo;
  /** Reads and acts with this client (CLI: the user's; chart: the dashboard's ServiceAccount). */
  kube: KubeClient;
  /** True when reads must be checked with {@link may} first (chart mode); in CLI mode the API server decides them. */
  checkReads: boolean;
  /** May this viewer do it? (a SubjectAccessReview, or a SelfSubjectAccessReview in CLI mode) */
  may(attributes: ResourceAttributes): Promise<Decision>;
}

/** A request that could not be authenticated (chart mode): answered with 401. */
export class Unauthenticated extends Error {}

/** A refused read or act: answered with 403 and this message. */
export class Forbidden extends Error {}

const AUTHORIZATION = 'authorization.k8s.io/v1';

/** `user "bob" may not patch applicationconfigurations "shop" in namespace "default"` */
export function refusal(user: UserInfo | undefined, a: ResourceAttributes, reason?: string): string {
  const who = user ? `user "${user.username}"` : 'you';
  const what = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
  const where = a.namespace ? ` in namespace "${a.namespace}"` : ' across namespaces';
  return `${who} may not ${a.verb} ${what}${a.name ? ` "${a.name}"` : ''}${where}${reason ? ` (${reason})` : ''}`;
}

/** Throws {@link Forbidden} unless the viewer may. */
export async function demand(viewer: Viewer, attributes: ResourceAttributes): Promise<void> {
  const decision = await viewer.may(attributes);
  if (!decision.allowed) throw new Forbidden(decision.reason ?? refusal(viewer.user, attributes));
}

/** Like {@link demand}, only in chart mode (CLI mode: the API server decides the read itself). */
export async function demandRead(viewer: Viewer, attributes: ResourceAttributes): Promise<void> {
  if (viewer.checkReads) await demand(viewer, attributes);
}

interface ReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** A short-lived memo of answers, so a page's dozen checks cost one review each per {@link ttlMs}. */
class Memo<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(private readonly ttlMs: number) {}
  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    if (this.entries.size > 10_000) this.entries.clear();
    const value = compute();
    value.catch(() => this.entries.delete(key));
    this.entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }
}

/** How long an access decision or a token's review is reused. */
const MEMO_MS = 10_000;

/** CLI mode: the server acts as the kubeconfig's user. */
export class SelfAccess {
  private readonly decisions = new Memo<Decision>(MEMO_MS);
  private userPromise: Promise<UserInfo | undefined> | undefined;

  constructor(private readonly kube: KubeClient) {}

  /** The viewer of every request. */
  async viewer(): Promise<Viewer> {
    this.userPromise ??= selfSubjectReview(this.kube);
    const user = await this.userPromise;
    return {
      ...(user ? { user } : {}),
      kube: this.kube,
      checkReads: false,
      may: (a) =>
        this.decisions.get(JSON.stringify(a), async () => {
          const review = await this.kube.request<ReviewStatus>(
            '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
            {
              method: 'POST',
              body: { apiVersion: AUTHORIZATION, kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: a } },
            },
          );
          return decision(review, user, a);
        }),
    };
  }
}

/** Who the client is (authentication.k8s.io/v1 SelfSubjectReview, Kubernetes ≥ 1.28); undefined when not served. */
async function selfSubjectReview(kube: KubeClient): Promise<UserInfo | undefined> {
  const review = await kube
    .request<{ status?: { userInfo?: Partial<UserInfo> } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    })
    .catch(() => undefined);
  const info = review?.status?.userInfo;
  return info?.username ? { username: info.username, groups: info.groups ?? [] } : undefined;
}

/** Chart mode: requests carry the user's bearer token; the server acts as its own ServiceAccount for them. */
export class TokenAccess {
  private readonly users = new Memo<UserInfo>(MEMO_MS);
  private readonly decisions = new Memo<Decision>(MEMO_MS);

  /**
   * @param kube the dashboard's own client (ServiceAccount): creates TokenReviews and SubjectAccessReviews
   *   (the chart binds system:auth-delegator) and does the reads and the rollback it allowed.
   */
  constructor(private readonly kube: KubeClient) {}

  /** The viewer of a request with this `Authorization` header; {@link Unauthenticated} without a valid bearer token. */
  async viewer(authorization: string | undefined): Promise<Viewer> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token)
      throw new Unauthenticated('no bearer token: send `Authorization: Bearer <token>` (an authenticating proxy does)');
    const key = createHash('sha256').update(token).digest('hex');
    const user = await this.users.get(key, () => this.review(token));
    return {
      user,
      kube: this.kube,
      checkReads: true,
      may: (a) =>
        this.decisions.get(`${key}\n${JSON.stringify(a)}`, async () => {
          const spec = {
            user: user.username,
            groups: user.groups,
            ...(user.uid ? { uid: user.uid } : {}),
            ...(user.extra ? { extra: user.extra } : {}),
            resourceAttributes: a,
          };
          const review = await this.kube.request<ReviewStatus>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            method: 'POST',
            body: { apiVersion: AUTHORIZATION, kind: 'SubjectAccessReview', spec },
          });
          return decision(review, user, a);
        }),
    };
  }

  private async review(token: string): Promise<UserInfo> {
    const review = await this.kube
      .request<{ status?: { authenticated?: boolean; user?: Partial<UserInfo>; error?: string } }>(
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { method: 'POST', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } },
      )
      .catch((err: unknown) => {
        if (isForbidden(err))
          throw new TrellisError(
            'TRL_DASHBOARD_AUTH',
            'the dashboard may not create TokenReviews (bind system:auth-delegator to its ServiceAccount)',
            { cause: err },
          );
        throw err;
      });
    const user = review.status?.user;
    if (!review.status?.authenticated || !user?.username)
      throw new Unauthenticated(
        `the bearer token was not accepted by the API server${review.status?.error ? `: ${review.status.error}` : ''}`,
      );
    return {
      username: user.username,
      groups: user.groups ?? [],
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    };
  }
}

function decision(review: ReviewStatus, user: UserInfo | undefined, a: ResourceAttributes): Decision {
  if (review.status?.allowed) return { allowed: true };
  return { allowed: false, reason: refusal(user, a, review.status?.reason || review.status?.evaluationError) };
}
