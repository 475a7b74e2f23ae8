/** Talking to the dashboard's JSON API: same origin, errors as {@link ApiError} with the server's sentence. */
import type { ApiErrorBody, Session } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) return body as T;
  const error = (body as Partial<ApiErrorBody> | undefined)?.error;
  throw new ApiError(
    response.status,
    error?.code ?? `HTTP_${response.status}`,
    error?.message ?? `${what}: HTTP ${response.status} ${response.statusText}`,
  );
}

/** GET a JSON document; rejects with {@link ApiError} (status 0: the dashboard could not be reached). */
export async function getJson<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { Accept: 'application/json' } });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `The dashboard could not be reached (${(err as Error).message}).`);
  }
  return answer<T>(response, path);
}

let session: Promise<Session> | undefined;

/** The session (user, CSRF token), fetched once per page load. */
export function getSession(): Promise<Session> {
  session ??= getJson<Session>('/api/session').catch((err: unknown) => {
    session = undefined;
    throw err;
  });
  return session;
}

/** POST JSON with the CSRF token of the session (header `X-Trellis-CSRF`; the cookie goes by itself). */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const { csrfToken } = await getSession();
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Trellis-CSRF': csrfToken },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `The dashboard could not be reached (${(err as Error).message}).`);
  }
  return answer<T>(response, path);
}
