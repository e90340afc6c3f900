/** Server-sent events of a rollout page: its view whenever it changes. */

import type http from 'node:http';
import type { Client } from '@temporalio/client';
import { readRolloutView } from './api';
import { errorStatus } from './http';

/** The streams open now, ended when the dashboard stops. */
export type OpenStreams = Set<http.ServerResponse>;

/**
 * Streams a rollout's view (`event: view`) whenever it changes, re-read every `pollMs`; a failed
 * read is sent once as `event: problem` with its HTTP status; a comment every 15 unchanged reads
 * keeps proxies from closing the stream.
 */
export function streamRolloutView(
  client: Client,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  rolloutId: string,
  o: { pollMs: number; streams: OpenStreams },
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  o.streams.add(res);
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
    if (!closed) timer = setTimeout(() => void tick(), o.pollMs);
  };
  req.on('close', () => {
    closed = true;
    if (timer) clearTimeout(timer);
    o.streams.delete(res);
  });
  void tick();
}
