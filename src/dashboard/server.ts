import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { sendControl } from '../operator/control';
import { listRolloutItems, readRolloutView } from './api';
import { buildFrontEnd, type FrontEnd } from './bundle';
import { parseCommand } from './commands';
import { streamRolloutView, type OpenStreams } from './events';
import { RequestGuard, TOKEN_COOKIE, isLoopback } from './guard';
import { OperatorIdentifier } from './identity';
import { HttpError, errorStatus, readJson, send, sendJson } from './http';

export { isLoopback };
export { OperatorsFileError, parseOperators, tokenHash } from './identity';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  client: Client;
  /** TCP port; 0 picks a free one. Default 7780. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. Anything but loopback requires `token`. */
  host?: string;
  /** Access token: required by every request when set (cookie after `?token=`, or `Authorization: Bearer`). */
  token?: string;
  /** Base URL of the Temporal web UI, for links to device workflows (e.g. `http://localhost:8233`). */
  temporalUiUrl?: string;
  /** Name the page proposes for the operator (default: the OS user); every command names who sent it. */
  operator?: string;
  /** How often a live page's rollout is re-read, ms (default 1000). */
  pollIntervalMs?: number;
  /**
   * Per-operator tokens (`sha256:<hex>` token hash → name, see `parseOperators`): each is an access token,
   * and a command is sent as the operator whose token it carries (`dashboard:<name>`).
   */
  operators?: Map<string, string>;
  /** The header a trusted single-sign-on proxy names the signed-in user in (`sso:<user>`). */
  trustHeader?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port` */
  url: string;
  /** The URL to open first: with `?token=` when a token is set (it then moves into a cookie). */
  loginUrl: string;
  stop(): Promise<void>;
}

/** The dashboard refuses to start (a non-loopback address without a token). */
export class DashboardConfigError extends Error {
  override readonly name = 'DashboardConfigError';
}

export const DEFAULT_DASHBOARD_PORT = 7780;

/** What every request of one running dashboard is served with. */
interface Served {
  client: Client;
  identifier: OperatorIdentifier;
  guard: RequestGuard;
  front: FrontEnd;
  /** The page's configuration (`/api/config`, and inlined into the page). */
  config: Record<string, unknown>;
  csp: string;
  pollMs: number;
  streams: OpenStreams;
}

/**
 * Starts the dashboard: the rollout list, one page per rollout with live progress (server-sent
 * events) and the operator controls, each sent as the same Temporal Update the CLI sends
 * (`sendControl`), naming the operator. Binds to loopback by default; any other address needs an
 * access token. Mutating requests must come from the dashboard's own origin (checked on every
 * POST, also on loopback) and carry the token when one is set.
 * @throws DashboardConfigError when asked to bind beyond loopback without a token; listen errors
 *   (EADDRINUSE) as Node raises them.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token;
  if (!isLoopback(host) && !token && !options.operators) {
    throw new DashboardConfigError(
      `the dashboard binds to ${host}, beyond this machine: set an access token (--token or SAG_DASHBOARD_TOKEN), per-operator tokens (--operators) or bind to 127.0.0.1`,
    );
  }
  if (token !== undefined && token.length < 16)
    throw new DashboardConfigError('the access token must be at least 16 characters');
  const { client } = options;
  const front = await buildFrontEnd();
  let port = 0;
  const identifier = new OperatorIdentifier(options.operators, options.trustHeader?.toLowerCase(), token);
  const served: Served = {
    client,
    identifier,
    guard: new RequestGuard(
      host,
      token,
      () => port,
      options.operators ? (t) => identifier.operatorOfToken(t) !== undefined : undefined,
    ),
    front,
    config: {
      operator: options.operator ?? safeUser(),
      temporalUiUrl: options.temporalUiUrl?.replace(/\/+$/, '') ?? null,
      namespace: client.options.namespace,
    },
    csp: contentSecurityPolicy(front),
    pollMs: options.pollIntervalMs ?? 1000,
    streams: new Set(),
  };

  const server = http.createServer((req, res) => {
    handle(served, req, res).catch((err: unknown) => {
      const e = errorStatus(err);
      if (res.headersSent) {
        res.end();
        return;
      }
      if ((req.url ?? '').startsWith('/api/')) sendJson(res, e.status, { error: e.message });
      else send(res, e.status, e.message, 'text/plain; charset=utf-8');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  return {
    url,
    loginUrl: token ? `${url}/?token=${encodeURIComponent(token)}` : url,
    async stop() {
      for (const s of served.streams) s.end();
      served.streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(s: Served, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const method = req.method ?? 'GET';
  if (!s.guard.hostAllowed(req)) throw new HttpError(421, 'unexpected Host header');
  if (url.pathname === '/favicon.ico') return send(res, 204, '', 'text/plain');
  if (!url.pathname.startsWith('/api/')) return servePage(s, req, res, url, method);

  if (!s.guard.authorised(req)) throw new HttpError(401, 'access token required');
  if (method === 'GET' && url.pathname === '/api/config') return sendJson(res, 200, s.config);
  if (method === 'GET' && url.pathname === '/api/rollouts') {
    const rows = await listRolloutItems(s.client, {
      state: url.searchParams.get('state') || undefined,
      targetVersion: url.searchParams.get('target') || undefined,
      limit: Number(url.searchParams.get('limit')) || undefined,
    });
    return sendJson(res, 200, { rollouts: rows });
  }
  const m = /^\/api\/rollouts\/([^/]+)(\/events|\/commands)?$/.exec(url.pathname);
  if (!m) throw new HttpError(404, 'not found');
  const rolloutId = decodeURIComponent(m[1]!);
  if (method === 'GET' && !m[2]) return sendJson(res, 200, await readRolloutView(s.client, rolloutId));
  if (method === 'GET' && m[2] === '/events')
    return streamRolloutView(s.client, req, res, rolloutId, { pollMs: s.pollMs, streams: s.streams });
  if (method === 'POST' && m[2] === '/commands') {
    if (!s.guard.sameOrigin(req)) throw new HttpError(403, 'cross-origin request refused');
    const operator = s.identifier.identify(req);
    if (s.identifier.required && !operator)
      throw new HttpError(401, 'sign in: this dashboard sends commands only as an authenticated operator');
    const cmd = parseCommand(await readJson(req), operator?.name);
    const result = await sendControl(s.client, rolloutId, cmd.kind, {
      by: cmd.by,
      ...(operator ? { identity: operator.identity } : {}),
      reason: cmd.reason,
      requestId: randomUUID(),
      wave: cmd.wave,
      smartAgIds: cmd.smartAgIds,
      compensate: cmd.compensate,
    });
    return sendJson(res, 200, result);
  }
  throw new HttpError(405, 'method not allowed');
}

/** The page (`/` and `/rollouts/<id>`): the token offered in the URL moves into a cookie first. */
function servePage(
  s: Served,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  method: string,
): void {
  if (method !== 'GET') throw new HttpError(405, 'method not allowed');
  if (!(url.pathname === '/' || /^\/rollouts\/[^/]+$/.test(url.pathname)))
    throw new HttpError(404, 'not found');
  const token = s.guard.token;
  const offered = url.searchParams.get('token');
  if ((token || s.guard.tokenAccepted) && offered !== null) {
    if (!s.guard.accepts(offered)) throw new HttpError(401, 'wrong access token');
    // The token moves into a cookie the browser sends only to this origin, and leaves the address bar.
    return send(res, 303, '', 'text/plain', {
      'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(offered)}; HttpOnly; SameSite=Strict; Path=/`,
      location: url.pathname,
    });
  }
  if (!s.guard.authorised(req))
    throw new HttpError(401, 'open the dashboard with the URL that carries ?token=');
  // An authenticated operator's page proposes their own name, not the server's.
  const operator = s.identifier.identify(req);
  const config = operator ? { ...s.config, operator: operator.name, identity: operator.identity } : s.config;
  return send(res, 200, page(s.front, config), 'text/html; charset=utf-8', {
    'content-security-policy': s.csp,
  });
}

function contentSecurityPolicy(front: FrontEnd): string {
  return [
    "default-src 'none'",
    `script-src '${front.scriptHash}'`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function page(front: FrontEnd, config: Record<string, unknown>): string {
  // JSON inside a script element: `<` escaped so no text can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sag-rollout</title><style>${front.css}</style></head>
<body><div id="app"></div>
<script type="application/json" id="dashboard-config">${json}</script>
<script>${front.js}</script></body></html>`;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}
