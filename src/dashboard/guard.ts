/**
 * Who may talk to the dashboard: its own host names on loopback (DNS rebinding), the access token
 * when one is set (cookie or bearer), and its own origin for anything that changes a rollout.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** The cookie the access token moves into after the first `?token=` request. */
export const TOKEN_COOKIE = 'sag_dashboard_token';

/** Whether an address or host name stays on this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Compares secrets in constant time, whatever their lengths. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function cookieOf(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer`, else the dashboard's cookie. */
export function requestToken(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return cookieOf(req, TOKEN_COOKIE);
}

/** The checks every request passes, for a dashboard bound to `host` with an optional token. */
export class RequestGuard {
  readonly loopback: boolean;

  constructor(
    private readonly host: string,
    readonly token: string | undefined,
    /** The port the server listens on (known once it does). */
    private readonly port: () => number,
    /** Whether a token is one of the per-operator tokens (absent: there are none). */
    private readonly operatorToken?: (token: string) => boolean,
  ) {
    this.loopback = isLoopback(host);
  }

  /** Whether per-operator tokens give access (an operators file is set). */
  get tokenAccepted(): boolean {
    return this.operatorToken !== undefined;
  }

  /** Whether `offered` opens the dashboard: the shared token or an operator's. */
  accepts(offered: string): boolean {
    if (this.token && sameSecret(offered, this.token)) return true;
    return this.operatorToken?.(offered) ?? false;
  }

  /** Loopback: only this machine's names (a DNS-rebinding page would send its own host name). */
  hostAllowed(req: http.IncomingMessage): boolean {
    if (!this.loopback) return true;
    const port = this.port();
    const h = req.headers.host ?? '';
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${this.host}:${port}`].includes(
      h.toLowerCase(),
    );
  }

  authorised(req: http.IncomingMessage): boolean {
    if (!this.token && !this.operatorToken) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.accepts(auth.slice(7))) return true;
    const c = cookieOf(req, TOKEN_COOKIE);
    return c !== undefined && this.accepts(c);
  }

  /** A POST must come from a page this server served. */
  sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin || origin === 'null') return false;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' || u.host !== (req.headers.host ?? '').toLowerCase()) return false;
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin';
  }
}
