/**
 * Who may talk to browser mode. The server listens on loopback, but loopback is not enough: any
 * web page the user has open can make the browser send requests to 127.0.0.1, and a DNS name
 * rebound to 127.0.0.1 makes them same-origin as far as the browser knows. So every request and
 * every WebSocket upgrade must pass two checks:
 *
 * - origin: the Host header is exactly `127.0.0.1:PORT` or `localhost:PORT` (a rebound name
 *   arrives with its own name in Host), and an Origin header, when the browser sends one, is
 *   `http://127.0.0.1:PORT` or `http://localhost:PORT` (another site's page sends its own);
 * - token: a random secret made at each start, carried in the printed URL, which only someone
 *   who can read the terminal has. The page keeps it as an HttpOnly, SameSite=Strict cookie, so
 *   scripts cannot read it and other sites cannot make the browser send it; other clients send
 *   `Authorization: Bearer TOKEN`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** 32 random bytes, base64url: URL- and cookie-safe as it is. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookies of a request, by name (later duplicates lose, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export class AccessGuard {
  /** Cookies are not scoped by port: one name per port keeps two servers from overwriting each other's. */
  readonly cookieName: string;
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly secret: Buffer;

  constructor(
    readonly token: string,
    readonly port: number,
  ) {
    this.cookieName = `purification-lab-token-${port}`;
    this.hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    this.origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
    this.secret = Buffer.from(token);
  }

  /** Why the request's Host or Origin is refused (a sentence for the 403), or null when both are ours. */
  foreignOrigin(request: IncomingMessage): string | null {
    const host = request.headers.host?.toLowerCase();
    if (!host || !this.hosts.has(host)) {
      return `the Host header ${host ? `"${host}"` : '(missing)'} is not this server's: it answers to ${[...this.hosts].join(' and ')} only`;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      return `requests from the origin "${origin}" are refused: only pages served by this server (${[...this.origins].join(', ')}) may call it`;
    }
    return null;
  }

  /** Whether `candidate` is the token (constant time: the comparison leaks nothing about it). */
  matches(candidate: string | undefined | null): boolean {
    if (!candidate) return false;
    const given = Buffer.from(candidate);
    return given.length === this.secret.length && timingSafeEqual(given, this.secret);
  }

  /** The token a request carries in its Authorization header or in this server's cookie. */
  headerOrCookieValid(request: IncomingMessage): boolean {
    const authorization = request.headers.authorization;
    if (authorization?.startsWith('Bearer ') && this.matches(authorization.slice('Bearer '.length).trim())) return true;
    return this.matches(parseCookies(request.headers.cookie).get(this.cookieName));
  }

  /** The Set-Cookie value that keeps the token for this server's pages (session cookie). */
  cookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}
