/**
 * The written form of target versions: firmware as four dotted numbers (`2.4.0.0`, as
 * `DescribeSmartAccessGatewayVersions` lists them), DPI signature databases as
 * `20201117_1_0-0.0.1`. Pure; `plan` refuses a target in another form before it calls anything.
 */
import type { RolloutPolicy, VersionType } from './types';

const FORMS: Readonly<Record<VersionType, { pattern: RegExp; example: string }>> = Object.freeze({
  Device: { pattern: /^\d+\.\d+\.\d+\.\d+$/, example: '2.4.0.0' },
  Dpi: { pattern: /^\d{8}_\d+_\d+-\d+(\.\d+)*$/, example: '20201117_1_0-0.0.1' },
});

/** Whether `version` is written as a version of `type` is. */
export function isVersionOfType(version: string, type: VersionType): boolean {
  return FORMS[type].pattern.test(version);
}

/**
 * Every target of the policy (`targetVersion`, each `targetsByModel` entry) not written as its
 * version type requires, one problem each, naming the field and an example of the form.
 */
export function versionFormatProblems(
  policy: Pick<RolloutPolicy, 'targetVersion' | 'targetsByModel' | 'versionType'>,
): string[] {
  const { example } = FORMS[policy.versionType];
  const form =
    policy.versionType === 'Device' ? `four dotted numbers, like ${example}` : `the form ${example}`;
  const problems: string[] = [];
  const check = (field: string, v: string) => {
    if (!isVersionOfType(v, policy.versionType))
      problems.push(`${field}: ${JSON.stringify(v)} is not a ${policy.versionType} version (${form})`);
  };
  check('targetVersion', policy.targetVersion);
  for (const [model, v] of Object.entries(policy.targetsByModel ?? {})) check(`targetsByModel.${model}`, v);
  return problems;
}
