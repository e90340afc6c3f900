/**
 * Durations as the policy file and the CLI's flags write them (`10m`, `1h30m`, ms). Defined in
 * `src/common/duration.ts`, below `config/` and `windows/`, which share them.
 */
export { formatDuration, parseDuration } from '../common/duration';
