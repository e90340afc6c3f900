/**
 * The rollout policy: its file schema and defaults (`schema.ts`), reading a file (`load.ts`), the
 * CLI flags over it (`flags.ts`), and the check of a complete policy against its fleet
 * (`validate.ts`).
 */
export { defaultPolicy, policySchema } from './schema';
export { loadPolicy } from './load';
export { applyPolicyFlags, parseCanary, parseWaves, type PolicyFlags } from './flags';
export {
  DPI_VERSION,
  FIRMWARE_VERSION,
  MAX_PART_SIZE,
  validatePolicy,
  type ValidationContext,
} from './validate';
