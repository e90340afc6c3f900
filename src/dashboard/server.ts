import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { sendControl, type ControlKind } from '../cli/commands/control';
import { CliError } from '../cli/errors';
import { NoWorkerError, RolloutNotFoundError } from '../cli/status';
import { listRollouts, readRolloutView } from './api';
import { buildFrontEnd, type FrontEnd } from './bundle';

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
const COOKIE = 'sag_dashboard_token';
const COMMANDS: readonly ControlKind[] = [
  'pause',
  'resume',
  'approve',
  'abort',
  'exclude',
  'retry-failed',
  'promote',
];
const MAX_BODY = 64 * 1024;

/** Whether an address or host name stays on this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function sameSecret(a: string, b: string): boolean {
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...extra,
  });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(415, 'send JSON (content-type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Checks and narrows an operator command from the page. */
function parseCommand(body: Record<string, unknown>): {
  kind: ControlKind;
  by: string;
  reason?: string;
  wave?: number;
  smartAgIds?: string[];
  compensate?: boolean;
} {
  const kind = body.command;
  if (typeof kind !== 'string' || !(COMMANDS as readonly string[]).includes(kind))
    throw new HttpError(400, `command must be one of ${COMMANDS.join(', ')}`);
  const by = typeof body.by === 'string' ? body.by.trim() : '';
  if (!by || by.length > 100) throw new HttpError(400, 'say who you are (by: 1 to 100 characters)');
  const reason = body.reason === undefined || body.reason === '' ? undefined : body.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000))
    throw new HttpError(400, 'reason: up to 1,000 characters');
  const wave = body.wave;
  if (wave !== undefined && !(typeof wave === 'number' && Number.isInteger(wave) && wave >= 0))
    throw new HttpError(400, 'wave: a whole number ≥ 0');
  const ids = body.smartAgIds;
  if (
    ids !== undefined &&
    !(
      Array.isArray(ids) &&
      ids.length <= 10_000 &&
      ids.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)
    )
  ) {
    throw new HttpError(400, 'smartAgIds: a list of SmartAGIds');
  }
  if (kind === 'exclude' && !(Array.isArray(ids) && ids.length > 0))
    throw new HttpError(400, 'exclude: name at least one SmartAGId');
  const compensate = body.compensate;
  if (compensate !== undefined && typeof compensate !== 'boolean')
    throw new HttpError(400, 'compensate: true or false');
  return { kind: kind as ControlKind, by, reason, wave, smartAgIds: ids, compensate };
}

function errorStatus(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof RolloutNotFoundError) return { status: 404, message: err.message };
  if (err instanceof NoWorkerError) return { status: 503, message: err.message };
  if (err instanceof CliError) return { status: 409, message: err.message };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
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
  const loopback = isLoopback(host);
  if (!loopback && !token) {
    throw new DashboardConfigError(
      `the dashboard binds to ${host}, beyond this machine: set an access token (--token or SAG_DASHBOARD_TOKEN) or bind to 127.0.0.1`,
    );
  }
  if (token !== undefined && token.length < 16)
    throw new DashboardConfigError('the access token must be at least 16 characters');
  const { client } = options;
  const front = await buildFrontEnd();
  const pollMs = options.pollIntervalMs ?? 1000;
  const config = {
    operator: options.operator ?? safeUser(),
    temporalUiUrl: options.temporalUiUrl?.replace(/\/+$/, '') ?? null,
    namespace: client.options.namespace,
  };
  const csp = [
    "default-src 'none'",
    `script-src '${front.scriptHash}'`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  /** Loopback: only this machine's names (a DNS-rebinding page would send its own host name). */
  function hostAllowed(req: http.IncomingMessage): boolean {
    if (!loopback) return true;
    const h = req.headers.host ?? '';
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`].includes(
      h.toLowerCase(),
    );
  }

  function authorised(req: http.IncomingMessage): boolean {
    if (!token) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && sameSecret(auth.slice(7), token)) return true;
    const c = cookieOf(req, COOKIE);
    return c !== undefined && sameSecret(c, token);
  }

  /** A POST must come from a page this server served. */
  function sameOrigin(req: http.IncomingMessage): boolean {
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

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const method = req.method ?? 'GET';
    if (!hostAllowed(req)) throw new HttpError(421, 'unexpected Host header');
    if (url.pathname === '/favicon.ico') return send(res, 204, '', 'text/plain');

    const isApi = url.pathname.startsWith('/api/');
    if (!isApi) {
      if (method !== 'GET') throw new HttpError(405, 'method not allowed');
      if (!(url.pathname === '/' || /^\/rollouts\/[^/]+$/.test(url.pathname)))
        throw new HttpError(404, 'not found');
      const offered = url.searchParams.get('token');
      if (token && offered !== null) {
        if (!sameSecret(offered, token)) throw new HttpError(401, 'wrong access token');
        // The token moves into a cookie the browser sends only to this origin, and leaves the address bar.
        return send(res, 303, '', 'text/plain', {
          'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          location: url.pathname,
        });
      }
      if (!authorised(req)) throw new HttpError(401, 'open the dashboard with the URL that carries ?token=');
      return send(res, 200, page(front, config), 'text/html; charset=utf-8', {
        'content-security-policy': csp,
      });
    }

    if (!authorised(req)) throw new HttpError(401, 'access token required');
    if (method === 'GET' && url.pathname === '/api/config') return sendJson(res, 200, config);
    if (method === 'GET' && url.pathname === '/api/rollouts') {
      const rows = await listRollouts(client, {
        state: url.searchParams.get('state') || undefined,
        targetVersion: url.searchParams.get('target') || undefined,
        limit: Number(url.searchParams.get('limit')) || undefined,
      });
      return sendJson(res, 200, { rollouts: rows });
    }
    const m = /^\/api\/rollouts\/([^/]+)(\/events|\/commands)?$/.exec(url.pathname);
    if (!m) throw new HttpError(404, 'not found');
    const rolloutId = decodeURIComponent(m[1]!);
    if (method === 'GET' && !m[2]) return sendJson(res, 200, await readRolloutView(client, rolloutId));
    if (method === 'GET' && m[2] === '/events') return stream(req, res, rolloutId);
    if (method === 'POST' && m[2] === '/commands') {
      if (!sameOrigin(req)) throw new HttpError(403, 'cross-origin request refused');
      const cmd = parseCommand(await readJson(req));
      const result = await sendControl(client, rolloutId, cmd.kind, {
        by: cmd.by,
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

  /** Server-sent events: the rollout's view whenever it changes, re-read every `pollMs`. */
  function stream(req: http.IncomingMessage, res: http.ServerResponse, rolloutId: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    let last = '';
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let beats = 0;
    const tick = async (): Promise<void> => {
      try {
        const json = JSON.stringify(await readRolloutView(client, rolloutId));
        if (json !== last) {
          last = json;
          res.write(`event: view\ndata: ${json}\n\n`);
        } else if (++beats % 15 === 0) {
          res.write(': still here\n\n');
        }
      } catch (err) {
        const e = errorStatus(err);
        const json = JSON.stringify({ status: e.status, message: e.message });
        if (json !== last) {
          last = json;
          res.write(`event: problem\ndata: ${json}\n\n`);
        }
      }
      if (!closed) timer = setTimeout(() => void tick(), pollMs);
    };
    req.on('close', () => {
      closed = true;
      if (timer) clearTimeout(timer);
      streams.delete(res);
    });
    void tick();
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
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
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}
