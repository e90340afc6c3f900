import type { SagClient } from '../src/sag/types';
import type { CallRecord } from '../workflows/device-types';

/** The smartag action behind each client method, for the audit trail. */
const ACTIONS: Record<keyof SagClient, string> = {
  describeSmartAccessGateways: 'DescribeSmartAccessGateways',
  describeSmartAccessGatewayAttribute: 'DescribeSmartAccessGatewayAttribute',
  describeSmartAccessGatewayVersions: 'DescribeSmartAccessGatewayVersions',
  describeSmartAccessGatewayHa: 'DescribeSmartAccessGatewayHa',
  describeDeviceAutoUpgradePolicy: 'DescribeDeviceAutoUpgradePolicy',
  modifyDeviceAutoUpgradePolicy: 'ModifyDeviceAutoUpgradePolicy',
  describeSagDeviceInfo: 'DescribeSAGDeviceInfo',
  getSmartAgDpiAttribute: 'GetSmartAGDpiAttribute',
  updateSmartAccessGatewayVersion: 'UpdateSmartAccessGatewayVersion',
  describeRegions: 'DescribeRegions',
};

/** Where a method's serial-number argument is, so each record names its device. */
function serialOf(method: keyof SagClient, args: unknown[]): string | undefined {
  switch (method) {
    case 'describeDeviceAutoUpgradePolicy':
    case 'describeSagDeviceInfo':
      return typeof args[2] === 'string' ? args[2] : undefined;
    case 'describeSmartAccessGatewayVersions':
      return typeof args[3] === 'string' ? args[3] : undefined;
    case 'modifyDeviceAutoUpgradePolicy':
    case 'updateSmartAccessGatewayVersion':
      return (args[0] as { serialNumber?: string }).serialNumber;
    default:
      return undefined;
  }
}

export interface RecordingClient {
  client: SagClient;
  calls: CallRecord[];
}

/**
 * Wraps a client so every call of one activity invocation is recorded: action, serial number,
 * RequestId, error code and timing. The records travel in the activity's result into history.
 */
export function recording(inner: SagClient): RecordingClient {
  const calls: CallRecord[] = [];
  const client = {} as Record<keyof SagClient, unknown>;
  for (const method of Object.keys(ACTIONS) as (keyof SagClient)[]) {
    client[method] = async (...args: unknown[]) => {
      const t = Date.now();
      const rec: CallRecord = { a: ACTIONS[method], t, ms: 0 };
      const sn = serialOf(method, args);
      if (sn) rec.sn = sn;
      calls.push(rec);
      try {
        const fn = (inner[method] as (...a: unknown[]) => Promise<{ requestId?: string }>).bind(inner);
        const result = await fn(...args);
        if (result && typeof result.requestId === 'string') rec.rid = result.requestId;
        return result;
      } catch (err) {
        const e = err as { code?: unknown; httpStatus?: unknown; requestId?: unknown };
        if (typeof e.code === 'string') rec.code = e.code;
        if (typeof e.httpStatus === 'number') rec.st = e.httpStatus;
        if (typeof e.requestId === 'string') rec.rid = e.requestId;
        throw err;
      } finally {
        rec.ms = Date.now() - t;
      }
    };
  }
  return { client: client as unknown as SagClient, calls };
}
