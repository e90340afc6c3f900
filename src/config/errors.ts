/**
 * The error every loader of this folder throws, and the list its checks collect problems in.
 * Both are defined in `src/common/errors.ts`, below `config/` and `windows/`, which share them.
 */
export { InputError, ProblemList, formatPath } from '../common/errors';
