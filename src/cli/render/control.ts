import type { ControlResult } from '../../operator/control';

/** The text line a control prints. */
export function renderControl(r: ControlResult): string {
  if (r.via === 'signal') {
    return `${r.command} sent to rollout ${r.rolloutId} as a signal (request ${r.requestId}); the server stores it and the rollout applies it when a worker runs`;
  }
  const res = r.result!;
  const head = res.accepted ? (res.duplicate ? 'already done' : 'accepted') : 'refused';
  return `${r.command} ${head}: ${res.message} (rollout ${r.rolloutId} is ${res.state})`;
}
