/** HTTP plumbing of the dashboard: replies with its security headers, JSON bodies, error statuses. */

import type http from 'node:http';
import { ControlError, NoWorkerError, RolloutNotFoundError } from '../operator/errors';

const MAX_BODY = 64 * 1024;

/** A request the dashboard answers with this status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Sends a reply with the headers every reply carries. */
export function send(
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

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

/**
 * Reads a JSON object body of at most 64 KiB.
 * @throws HttpError 415 (not JSON by its content type), 413 (too large), 400 (not a JSON object).
 */
export async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
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

/** The HTTP status and message of a failure: 404 no rollout, 503 no worker, 409 a control not taken. */
export function errorStatus(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof RolloutNotFoundError) return { status: 404, message: err.message };
  if (err instanceof NoWorkerError) return { status: 503, message: err.message };
  if (err instanceof ControlError) return { status: 409, message: err.message };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}
