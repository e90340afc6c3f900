import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: the strings are part of the namespace's schema, never rename them. */
export const SA_ROLLOUT_ID = defineSearchAttributeKey('SagRolloutId', SearchAttributeType.KEYWORD);
export const SA_TARGET_VERSION = defineSearchAttributeKey('SagTargetVersion', SearchAttributeType.KEYWORD);
export const SA_ROLLOUT_STATE = defineSearchAttributeKey('SagRolloutState', SearchAttributeType.KEYWORD);
export const SA_SMART_AG_ID = defineSearchAttributeKey('SagSmartAgId', SearchAttributeType.KEYWORD);
/** On a follow-up rollout (`retry-failed` on a closed one): the rollout it retries. */
export const SA_FOLLOW_UP_OF = defineSearchAttributeKey('SagFollowUpOf', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  SA_ROLLOUT_ID,
  SA_TARGET_VERSION,
  SA_ROLLOUT_STATE,
  SA_SMART_AG_ID,
  SA_FOLLOW_UP_OF,
] as const;
