/**
 * The rollout policy: its file schema and defaults (`schema.ts`), reading a file (`load.ts`), the
 * CLI flags over it (`flags.ts`), and the check of a complete policy against its fleet
 * (`validate.ts`), whose rules are zod schemas (`rules.ts`, `window-rules.ts`, built from
 * `checks.ts`).
 */
export { defaultPolicy, policySchema } from './schema';
export { loadPolicy } from './load';
export { applyPolicyFlags, parseCanary, parseWaves, type PolicyFlags } from './flags';
export { DPI_VERSION, FIRMWARE_VERSION, MAX_PART_SIZE } from './rules';
export { validatePolicy, type ValidationContext } from './validate';
