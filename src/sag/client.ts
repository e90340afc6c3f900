/**
 * The smartag (2018-03-13) client. Every call goes through the caller's rate limiter, is POSTed
 * through the chosen transport (./transport.ts: pop-core with the V2 signature, or
 * openapi-client with V3), is reported to the audit hook, and is validated into the plain shapes
 * of ./types. Both transports fail with the same `SagError` codes, statuses and RequestIds.
 */
import { CredentialsFailure, SagError, normalizeError } from './errors';
import {
  ShapeError,
  field,
  isJson,
  oneOf,
  optNumber,
  optString,
  reqString,
  splitSerials,
  wrappedList,
  type Json,
} from './internal/parse';
import { scrubText } from './internal/scrub';
import { toDiagnosisReport, toFeatures, toLinkBackup, toLinks } from './health';
import { createPopCoreTransport } from './pop-core-transport';
import {
  DEFAULT_SAG_SIGNATURE,
  SMARTAG_API_VERSION,
  type RpcParams,
  type SagCredentials,
  type SagCredentialsProvider,
  type SagSignature,
  type SagTransport,
} from './transport';
import type {
  ApiCallRecord,
  AutoUpgradePolicy,
  DescribeGatewaysPage,
  DescribeGatewaysQuery,
  DeviceAttribute,
  DeviceInfo,
  HaInfo,
  InstanceAttribute,
  InstanceSummary,
  ModifyPolicyRequest,
  SagClient,
  UpgradeRequest,
  UpgradeType,
  VersionEntry,
  VersionType,
} from './types';

export { SMARTAG_API_VERSION };
export type { SagCredentials, SagCredentialsProvider, SagSignature };
/** The region `DescribeRegions` is asked in (Alibaba's own guidance for smartag). */
export const REGIONS_QUERY_REGION = 'cn-shanghai';
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface SagClientOptions {
  /** Asked for keys before every call, so rotating STS credentials are picked up. */
  credentials: SagCredentialsProvider;
  /**
   * How calls are signed: `v2` (default: pop-core, HMAC-SHA1 RPC parameters) or `v3`
   * (openapi-client, ACS3-HMAC-SHA256 `Authorization` header).
   */
  signature?: SagSignature;
  /**
   * One endpoint for every region (the simulator, `http://127.0.0.1:PORT`). Without it each
   * region uses `https://smartag.<regionId>.aliyuncs.com`.
   */
  endpoint?: string;
  /** Connect plus response timeout of one call. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Awaited before every call with the action name (the shared API rate limiter plugs in here). */
  beforeCall?: (action: string) => Promise<void>;
  /** Told about every call made, success or failure, once it ends. Must not throw. */
  onCall?: (record: ApiCallRecord) => void;
}

interface CallContext {
  regionId: string;
  smartAgId?: string;
  serialNumber?: string;
}

type Params = Record<string, string | number | string[] | undefined>;

const REGION_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function regionalEndpoint(regionId: string): string {
  return `https://smartag.${regionId}.aliyuncs.com`;
}

/** Drops undefined values: pop-core would send them as the string "undefined". */
function clean(params: Params): RpcParams {
  const out: RpcParams = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = value;
  return out;
}

function requestIdOf(body: unknown): string | undefined {
  // RebootSmartAccessGateway's documented example spells it `requestId`.
  return optString(body, 'RequestId') ?? optString(body, 'requestId');
}

function toSummary(item: Json, regionId: string): InstanceSummary {
  const summary: InstanceSummary = {
    smartAgId: reqString(item, 'SmartAGId', 'SmartAccessGateway'),
    regionId,
    status: optString(item, 'Status') ?? '',
    serialNumbers: splitSerials(field(item, 'SerialNumber')),
  };
  const name = optString(item, 'Name');
  if (name !== undefined) summary.name = name;
  const softwareVersion = optString(item, 'SoftwareVersion');
  if (softwareVersion !== undefined) summary.softwareVersion = softwareVersion;
  const backupSoftwareVersion = optString(item, 'BackupSoftwareVersion');
  if (backupSoftwareVersion !== undefined) summary.backupSoftwareVersion = backupSoftwareVersion;
  const backupStatus = optString(item, 'BackupStatus');
  if (backupStatus !== undefined) summary.backupStatus = backupStatus;
  const hardwareVersion = optString(item, 'HardwareVersion');
  if (hardwareVersion !== undefined) summary.hardwareVersion = hardwareVersion;
  const ccn = optString(item, 'AssociatedCcnId');
  if (ccn !== undefined) summary.associatedCcnId = ccn;
  const endTime = optNumber(item, 'EndTime');
  if (endTime !== undefined) summary.endTime = endTime;
  const dpiStatus = oneOf(optString(item, 'DpiStatus'), ['On', 'Off'] as const);
  if (dpiStatus !== undefined) summary.dpiStatus = dpiStatus;
  const lock = optNumber(item, 'SecurityLockThreshold');
  if (lock !== undefined) summary.securityLockThreshold = lock;
  return summary;
}

function toDevice(item: Json): DeviceAttribute {
  // Only the listed fields are copied: the device's SecretKey never leaves this function.
  const device: DeviceAttribute = {
    serialNumber: reqString(item, 'SerialNumber', 'Device'),
    softwareVersion: optString(item, 'SoftwareVersion') ?? '',
    hcState: optString(item, 'HcState') ?? '',
  };
  const dpi = optString(item, 'DpiSignatureDbVersion');
  if (dpi !== undefined) device.dpiSignatureDbVersion = dpi;
  const ha = optString(item, 'HaState');
  if (ha !== undefined) device.haState = ha;
  return device;
}

function toAttribute(body: Json, regionId: string, smartAgId: string, requestId: string): InstanceAttribute {
  const attribute: InstanceAttribute = {
    smartAgId: optString(body, 'SmartAGId') ?? smartAgId,
    regionId,
    status: optString(body, 'Status') ?? '',
    devices: wrappedList(body, 'Devices', 'Device').map(toDevice),
    links: toLinks(body),
    requestId,
  };
  const instanceType = optString(body, 'InstanceType');
  if (instanceType !== undefined) attribute.instanceType = instanceType;
  const ccnLink = wrappedList(body, 'Links', 'Link').find(
    (link) => optString(link, 'Type')?.toLowerCase() === 'ccn',
  );
  const ccn = optString(body, 'AssociatedCcnId') ?? (ccnLink ? optString(ccnLink, 'InstanceId') : undefined);
  if (ccn !== undefined) attribute.associatedCcnId = ccn;
  const endTime = optNumber(body, 'EndTime');
  if (endTime !== undefined) attribute.endTime = endTime;
  const lock = optNumber(body, 'SecurityLockThreshold');
  if (lock !== undefined) attribute.securityLockThreshold = lock;
  const master = optString(body, 'TrafficMasterSn');
  if (master !== undefined) attribute.trafficMasterSn = master;
  return attribute;
}

function toVersion(item: Json): VersionEntry {
  const entry: VersionEntry = {
    versionCode: reqString(item, 'VersionCode', 'SmartAGVersion'),
    type: optString(item, 'Type') ?? '',
  };
  const name = optString(item, 'VersionName');
  if (name !== undefined) entry.versionName = name;
  const created = optNumber(item, 'CreateTime');
  if (created !== undefined) entry.createTime = created;
  return entry;
}

const UPGRADE_TYPES = ['scheduled', 'boot', 'manual'] as const satisfies readonly UpgradeType[];

/**
 * The V3 transport, loaded on its first call: a process on the default transport (every CLI
 * command) does not pay for loading openapi-client and its dependencies.
 */
function lazyOpenApiTransport(credentials: SagCredentialsProvider): SagTransport {
  let loaded: Promise<SagTransport> | undefined;
  return {
    signature: 'v3',
    async call(endpoint, action, params, timeoutMs) {
      loaded ??= import('./openapi-transport.js').then((m) => m.createOpenApiTransport(credentials));
      return (await loaded).call(endpoint, action, params, timeoutMs);
    },
  };
}

/**
 * Creates the smartag client over the transport `options.signature` names.
 *
 * Every method rejects with a {@link SagError} only: an Alibaba `Code` with its HTTP status and
 * RequestId, or a transport code (`RequestTimeout`, `ConnectionRefused`, `ConnectionReset`,
 * `InvalidResponse`, `NetworkError`, `CredentialsUnavailable`). An error thrown by `beforeCall`
 * is passed through unchanged, and no call is made.
 *
 * @throws Error synchronously when `endpoint` is not an http(s) URL or `timeoutMs` is not positive.
 */
export function createSagClient(options: SagClientOptions): SagClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  const override = options.endpoint?.replace(/\/+$/, '');
  if (override !== undefined && !/^https?:\/\/[^/?#\s]+$/i.test(override)) {
    throw new Error(
      `endpoint must be an http(s) origin such as http://127.0.0.1:8080, got ${scrubText(override)}`,
    );
  }

  // Values seen from the provider, so they can be scrubbed from any message that echoes them.
  const seen: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } = {};
  const secrets = (): (string | undefined)[] => [seen.accessKeyId, seen.accessKeySecret, seen.securityToken];

  const provider: SagCredentialsProvider = {
    async getCredentials() {
      let credentials: SagCredentials;
      try {
        credentials = await options.credentials.getCredentials();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new CredentialsFailure(scrubText(message, secrets()));
      }
      if (!credentials || !credentials.accessKeyId || !credentials.accessKeySecret) {
        throw new CredentialsFailure('the credential provider returned no access key');
      }
      seen.accessKeyId = credentials.accessKeyId;
      seen.accessKeySecret = credentials.accessKeySecret;
      seen.securityToken = credentials.securityToken || undefined;
      const out: SagCredentials = {
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.accessKeySecret,
      };
      if (credentials.securityToken) out.securityToken = credentials.securityToken;
      return out;
    },
  };

  const transport: SagTransport =
    (options.signature ?? DEFAULT_SAG_SIGNATURE) === 'v3'
      ? lazyOpenApiTransport(provider)
      : createPopCoreTransport(provider);

  function report(record: ApiCallRecord): void {
    if (!options.onCall) return;
    try {
      options.onCall(record);
    } catch {
      // The audit hook must not change the outcome of a call that has already happened.
    }
  }

  /**
   * One call: rate limiter, POST, audit record, then `build` turns the body into the typed
   * result. A body `build` cannot read fails the call with `InvalidResponse`, recorded as such.
   */
  async function call<T>(
    action: string,
    ctx: CallContext,
    params: Params,
    build: (body: Json, requestId: string) => T,
  ): Promise<T> {
    if (!REGION_ID.test(ctx.regionId)) {
      throw new SagError({
        code: 'InvalidRegionId',
        action,
        detail: 'RegionId must be a region name such as cn-shanghai',
      });
    }
    const endpoint = override ?? regionalEndpoint(ctx.regionId);
    if (options.beforeCall) await options.beforeCall(action);

    const startedAt = Date.now();
    const record: ApiCallRecord = { action, regionId: ctx.regionId, startedAt, durationMs: 0 };
    if (ctx.smartAgId !== undefined) record.smartAgId = ctx.smartAgId;
    if (ctx.serialNumber !== undefined) record.serialNumber = ctx.serialNumber;
    try {
      const { body, httpStatus } = await transport.call(
        endpoint,
        action,
        clean({ ...params, RegionId: ctx.regionId }),
        timeoutMs,
      );
      if (httpStatus !== undefined) record.httpStatus = httpStatus;
      const requestId = requestIdOf(body);
      if (requestId !== undefined) record.requestId = requestId;
      if (!isJson(body)) throw new ShapeError('response body is not a JSON object');
      // pop-core decides success from the body alone: an error status without a Code is not a success.
      if (httpStatus !== undefined && httpStatus >= 400)
        throw new ShapeError(`HTTP ${httpStatus} without an error Code`);
      if (requestId === undefined) throw new ShapeError('response has no RequestId');
      return build(body, requestId);
    } catch (err) {
      const sagError =
        err instanceof ShapeError
          ? new SagError({
              code: 'InvalidResponse',
              action,
              detail: err.message,
              ...(record.httpStatus !== undefined ? { httpStatus: record.httpStatus } : {}),
              ...(record.requestId !== undefined ? { requestId: record.requestId } : {}),
            })
          : normalizeError(err, action, secrets());
      record.code = sagError.code;
      if (sagError.httpStatus !== undefined) record.httpStatus = sagError.httpStatus;
      if (sagError.requestId !== undefined) record.requestId = sagError.requestId;
      throw sagError;
    } finally {
      record.durationMs = Date.now() - startedAt;
      report(record);
    }
  }

  return {
    describeSmartAccessGateways(query: DescribeGatewaysQuery): Promise<DescribeGatewaysPage> {
      const ctx: CallContext = {
        regionId: query.regionId,
        ...(query.smartAgId !== undefined ? { smartAgId: query.smartAgId } : {}),
      };
      const params: Params = {
        SmartAGId: query.smartAgId,
        // pop-core flattens an array into SmartAGIds.1 ... SmartAGIds.N.
        SmartAGIds: query.smartAgIds && query.smartAgIds.length > 0 ? [...query.smartAgIds] : undefined,
        Status: query.status,
        SoftwareVersion: query.softwareVersion,
        VersionComparator: query.versionComparator,
        HardwareType: query.hardwareType,
        PageNumber: query.pageNumber,
        PageSize: query.pageSize,
      };
      return call('DescribeSmartAccessGateways', ctx, params, (body, requestId) => {
        const items = wrappedList(body, 'SmartAccessGateways', 'SmartAccessGateway').map((item) =>
          toSummary(item, query.regionId),
        );
        return {
          totalCount: optNumber(body, 'TotalCount') ?? items.length,
          pageNumber: optNumber(body, 'PageNumber') ?? query.pageNumber ?? 1,
          pageSize: optNumber(body, 'PageSize') ?? query.pageSize ?? 10,
          items,
          requestId,
        };
      });
    },

    describeSmartAccessGatewayAttribute(regionId: string, smartAgId: string): Promise<InstanceAttribute> {
      return call(
        'DescribeSmartAccessGatewayAttribute',
        { regionId, smartAgId },
        { SmartAGId: smartAgId },
        (body, requestId) => toAttribute(body, regionId, smartAgId, requestId),
      );
    },

    describeSmartAccessGatewayVersions(
      regionId: string,
      smartAgId: string,
      versionType: VersionType,
      serialNumber?: string,
    ) {
      const ctx: CallContext = {
        regionId,
        smartAgId,
        ...(serialNumber !== undefined ? { serialNumber } : {}),
      };
      // This action names the device `SmartAGSn`, not `SerialNumber`.
      const params: Params = { SmartAGId: smartAgId, VersionType: versionType, SmartAGSn: serialNumber };
      return call('DescribeSmartAccessGatewayVersions', ctx, params, (body, requestId) => ({
        versions: wrappedList(body, 'SmartAGVersions', 'SmartAGVersion').map(toVersion),
        requestId,
      }));
    },

    describeSmartAccessGatewayHa(regionId: string, smartAgId: string): Promise<HaInfo> {
      return call(
        'DescribeSmartAccessGatewayHa',
        { regionId, smartAgId },
        { SmartAGId: smartAgId },
        (body, requestId) => {
          const ha: HaInfo = {
            backupType: optString(body, 'DeviceLevelBackupType') ?? 'no_backup',
            state: optString(body, 'DeviceLevelBackupState') ?? 'OFF',
            linkBackup: toLinkBackup(body),
            requestId,
          };
          const main = optString(body, 'MainDeviceId');
          if (main !== undefined) ha.mainDeviceId = main;
          const backup = optString(body, 'BackupDeviceId');
          if (backup !== undefined) ha.backupDeviceId = backup;
          return ha;
        },
      );
    },

    describeDeviceAutoUpgradePolicy(
      regionId: string,
      smartAgId: string,
      serialNumber: string,
      versionType: VersionType,
    ): Promise<AutoUpgradePolicy> {
      const params: Params = { SmartAGId: smartAgId, SerialNumber: serialNumber, VersionType: versionType };
      return call(
        'DescribeDeviceAutoUpgradePolicy',
        { regionId, smartAgId, serialNumber },
        params,
        (body, requestId) => {
          const raw = optString(body, 'UpgradeType');
          const upgradeType = oneOf(raw, UPGRADE_TYPES);
          if (upgradeType === undefined)
            throw new ShapeError(`UpgradeType ${raw ?? '(missing)'} is not scheduled, boot or manual`);
          const policy: AutoUpgradePolicy = {
            serialNumber: optString(body, 'SerialNumber') ?? serialNumber,
            versionType,
            upgradeType,
            requestId,
          };
          const cron = optString(body, 'CronExpression');
          if (cron !== undefined) policy.cronExpression = cron;
          // Duration and Jitter are documented as strings and have been returned as numbers.
          const duration = optNumber(body, 'Duration');
          if (duration !== undefined) policy.duration = duration;
          const jitter = optString(body, 'Jitter');
          if (jitter !== undefined) policy.jitter = jitter;
          const zone = optString(body, 'TimeZone');
          if (zone !== undefined) policy.timeZone = zone;
          return policy;
        },
      );
    },

    modifyDeviceAutoUpgradePolicy(req: ModifyPolicyRequest): Promise<{ requestId: string }> {
      const params: Params = {
        SmartAGId: req.smartAgId,
        SerialNumber: req.serialNumber,
        VersionType: req.versionType,
        UpgradeType: req.upgradeType,
        CronExpression: req.cronExpression,
        Duration: req.duration,
        TimeZone: req.timeZone,
      };
      const ctx: CallContext = {
        regionId: req.regionId,
        smartAgId: req.smartAgId,
        serialNumber: req.serialNumber,
      };
      return call('ModifyDeviceAutoUpgradePolicy', ctx, params, (_body, requestId) => ({ requestId }));
    },

    describeSagDeviceInfo(regionId: string, smartAgId: string, serialNumber: string): Promise<DeviceInfo> {
      // This action names the device `SmartAGSn`, not `SerialNumber`.
      const params: Params = { SmartAGId: smartAgId, SmartAGSn: serialNumber };
      return call(
        'DescribeSAGDeviceInfo',
        { regionId, smartAgId, serialNumber },
        params,
        (body, requestId) => {
          const info: DeviceInfo = { serialNumber, requestId };
          const version = optString(body, 'Version');
          if (version !== undefined) info.version = version;
          const startup = optString(body, 'StartupTime');
          if (startup !== undefined) info.startupTime = startup;
          const controller = optString(body, 'ControllerState');
          if (controller !== undefined) info.controllerState = controller;
          const lastConnected = optString(body, 'LastConnectedControllerTime');
          if (lastConnected !== undefined) info.lastConnectedControllerTime = lastConnected;
          return info;
        },
      );
    },

    getSmartAgDpiAttribute(
      regionId: string,
      smartAgId: string,
    ): Promise<{ dpiStatus: string; requestId: string }> {
      return call(
        'GetSmartAGDpiAttribute',
        { regionId, smartAgId },
        { SmartAGId: smartAgId },
        (body, requestId) => ({
          dpiStatus: optString(body, 'DpiStatus') ?? 'Off',
          requestId,
        }),
      );
    },

    updateSmartAccessGatewayVersion(req: UpgradeRequest): Promise<{ requestId: string }> {
      const ctx: CallContext = {
        regionId: req.regionId,
        smartAgId: req.smartAgId,
        ...(req.serialNumber !== undefined ? { serialNumber: req.serialNumber } : {}),
      };
      const params: Params = {
        SmartAGId: req.smartAgId,
        VersionCode: req.versionCode,
        SerialNumber: req.serialNumber,
        VersionType: req.versionType,
      };
      return call('UpdateSmartAccessGatewayVersion', ctx, params, (_body, requestId) => ({ requestId }));
    },

    diagnoseSmartAccessGateway(regionId: string, smartAgId: string, serialNumber: string) {
      const params: Params = { SmartAGId: smartAgId, SmartAGSn: serialNumber };
      return call(
        'DiagnoseSmartAccessGateway',
        { regionId, smartAgId, serialNumber },
        params,
        (_b, requestId) => ({
          requestId,
        }),
      );
    },

    describeDiagnosisReport(regionId: string, smartAgId: string, serialNumber: string) {
      // Alibaba's spelling of the action.
      const params: Params = { SmartAGId: smartAgId, SmartAGSn: serialNumber };
      return call(
        'DiscribeSmartAccessGatewayDiagnosisReport',
        { regionId, smartAgId, serialNumber },
        params,
        toDiagnosisReport,
      );
    },

    listUnsupportedFeatures(regionId: string, smartAgId: string, serialNumber: string, openApiName: string) {
      const params: Params = { SmartAGId: smartAgId, SerialNumber: serialNumber, OpenApiName: openApiName };
      return call(
        'ListSmartAGApiUnsupportedFeature',
        { regionId, smartAgId, serialNumber },
        params,
        (body, requestId) => ({ features: toFeatures(body), requestId }),
      );
    },

    describeRegions() {
      return call(
        'DescribeRegions',
        { regionId: REGIONS_QUERY_REGION },
        { AcceptLanguage: 'en-US' },
        (body, requestId) => ({
          regions: wrappedList(body, 'Regions', 'Region').map((region) => {
            const out: { regionId: string; localName?: string; regionEndpoint?: string } = {
              regionId: reqString(region, 'RegionId', 'Region'),
            };
            const localName = optString(region, 'LocalName');
            if (localName !== undefined) out.localName = localName;
            const regionEndpoint = optString(region, 'RegionEndpoint');
            if (regionEndpoint !== undefined) out.regionEndpoint = regionEndpoint;
            return out;
          }),
          requestId,
        }),
      );
    },
  };
}
