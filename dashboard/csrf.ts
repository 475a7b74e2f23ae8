/**
 * CSRF protection of the dashboard's one mutating call. `GET /api/session` hands out a token and sets
 * the same token as an HttpOnly, SameSite=Strict cookie; a POST must send it back in the
 * `X-Trellis-CSRF` header AND carry the cookie, and the token must be one this server signed (for this
 * user, in chart mode). A page of another site can neither read the token nor make the browser send
 * the cookie with its request.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'trellis_csrf';
export const CSRF_HEADER = 'x-trellis-csrf';

export class CsrfTokens {
  private readonly secret = randomBytes(32);

  /** A new token for `user` (the username in chart mode, '' otherwise): `<nonce>.<hmac>`. */
  issue(user: string): string {
    const nonce = randomBytes(18).toString('base64url');
    return `${nonce}.${this.sign(nonce, user)}`;
  }

  /** The `Set-Cookie` value carrying the token. */
  cookie(token: string, secure: boolean): string {
    return `${CSRF_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  /**
   * Why the request is refused, or undefined when header and cookie carry the same token this
   * server issued for `user`.
   */
  refuse(header: string | undefined, cookieHeader: string | undefined, user: string): string | undefined {
    if (!header) return `missing the ${CSRF_HEADER} header (GET /api/session gives the token)`;
    const cookie = (cookieHeader ?? '')
      .split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${CSRF_COOKIE}=`))
      ?.slice(CSRF_COOKIE.length + 1);
    if (!cookie) return `missing the ${CSRF_COOKIE} cookie (GET /api/session sets it)`;
    if (!equal(header, cookie)) return `the ${CSRF_HEADER} header does not match the ${CSRF_COOKIE} cookie`;
    const [nonce, mac] = header.split('.');
    if (!nonce || !mac || !equal(mac, this.sign(nonce, user)))
      return 'the CSRF token was not issued by this dashboard for you (reload the page)';
    return undefined;
  }

  private sign(nonce: string, user: string): string {
    return createHmac('sha256', this.secret).update(`${nonce}\n${user}`).digest('base64url');
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
