import { describe, expect, it } from 'vitest';
import { NoWorkerError, noPollerAnswer } from '../../src/operator/errors';

// The server's FAILED_PRECONDITION answer to a query while it still lists a dead worker, as the
// client wraps it (a ServiceError "Failed to query Workflow" around the gRPC error).
function wrapped(code: number, details: string): Error {
  const grpc = Object.assign(new Error(`${code} FAILED_PRECONDITION: ${details}`), { code, details });
  return Object.assign(new Error('Failed to query Workflow'), { name: 'ServiceError', cause: grpc });
}

describe('a query no worker answers', () => {
  it('reads the server\'s "no poller seen" answer through the client\'s wrapping', () => {
    const err = wrapped(9, 'no poller seen for task queue recently, worker may be down');
    expect(noPollerAnswer(err)).toBe('no poller seen for task queue recently, worker may be down');
  });

  it('takes any other FAILED_PRECONDITION of a query, or one the server cancelled, for the same, and nothing else', () => {
    expect(noPollerAnswer(wrapped(9, 'something else'))).toBe('something else');
    expect(noPollerAnswer(wrapped(1, 'Call cancelled'))).toBe(
      'the query was cancelled before a worker answered it',
    );
    expect(noPollerAnswer(wrapped(13, 'internal'))).toBeUndefined();
    expect(noPollerAnswer(new Error('Failed to query Workflow'))).toBeUndefined();
  });

  it("says that no worker is answering, with the server's words", () => {
    const e = new NoWorkerError(
      'r1',
      'tq',
      'RUNNING',
      1,
      undefined,
      'no poller seen for task queue recently, worker may be down',
    );
    expect(e.message).toBe(
      'no worker is answering rollout r1 (running) on task queue tq: the server says "no poller seen for task queue recently, worker may be down" (it lists a stopped worker for about five minutes); start one with `sag-rollout worker`',
    );
  });
});
