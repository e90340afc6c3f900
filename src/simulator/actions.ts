import { invalidParameter, rpcError, RpcError } from './errors';
import { TIME_ZONES, UPGRADE_TYPES } from './fleet';
import type { FleetState, SimDevice, SimInstance, VersionType } from './model';
import { controllerFields, HEALTH_ACTIONS, linkBackupInfo, linkStatus } from './health-actions';
import { compareVersions, validateCron } from './versions';

/**
 * The smartag actions the simulator serves. Each handler gets the merged request parameters
 * and returns the success body without `RequestId` (the server adds it), or throws
 * {@link RpcError}.
 */

export interface ActionContext {
  fleet: FleetState;
  now: number;
  accountId: string;
  /** Told of every device an `UpdateSmartAccessGatewayVersion` call is accepted for. */
  onUpgradeAccepted?: (accepted: {
    instance: SimInstance;
    device: SimDevice;
    versionCode: string;
    versionType: VersionType;
    started: boolean;
  }) => void;
}

export type Params = Readonly<Record<string, string>>;
type Body = Record<string, unknown>;

export interface ActionDefinition {
  /** Parameters whose absence is `Missing{Name}` (400), checked in this order. */
  required: readonly string[];
  handle(params: Params, ctx: ActionContext): Body;
}

const REGION_NAMES: Record<string, [string, string]> = {
  'cn-shanghai': ['华东2（上海）', 'China (Shanghai)'],
  'cn-hangzhou': ['华东1（杭州）', 'China (Hangzhou)'],
  'cn-hongkong': ['中国香港', 'China (Hong Kong)'],
  'cn-shanghai-finance-1': ['华东2 金融云', 'China East 2 Finance'],
  'ap-southeast-1': ['新加坡', 'Singapore'],
  'ap-southeast-2': ['澳大利亚（悉尼）', 'Australia (Sydney)'],
  'ap-southeast-3': ['马来西亚（吉隆坡）', 'Malaysia (Kuala Lumpur)'],
  'ap-southeast-5': ['印度尼西亚（雅加达）', 'Indonesia (Jakarta)'],
  'ap-northeast-1': ['日本（东京）', 'Japan (Tokyo)'],
  'eu-central-1': ['德国（法兰克福）', 'Germany (Frankfurt)'],
};

function instanceOf(params: Params, ctx: ActionContext, notFound = 'InvalidId.SMARTAG'): SimInstance {
  const inst = ctx.fleet.instances.get(params.SmartAGId ?? '');
  if (!inst || inst.regionId !== params.RegionId) throw rpcError(notFound);
  return inst.settle(ctx.now);
}

function deviceOf(inst: SimInstance, sn: string): SimDevice {
  const d = inst.device(sn);
  if (!d) throw rpcError('SAG.InvalidSerialNumber');
  return d;
}

function versionType(params: Params): VersionType {
  const v = params.VersionType ?? 'Device';
  if (v !== 'Device' && v !== 'Dpi') throw invalidParameter('VersionType');
  return v;
}

function links(inst: SimInstance): Body {
  if (!inst.associatedCcnId) return { Link: [] };
  return {
    Link: [
      {
        InstanceId: inst.associatedCcnId,
        Type: 'ccn',
        Status: linkStatus(inst),
        Bandwidth: inst.maxBandwidth,
        CommodityType: 'smartag',
        EndTime: inst.endTime,
        RelateInstanceId: inst.associatedCcnId,
        RelateInstanceRegionId: inst.regionId,
      },
    ],
  };
}

function summary(inst: SimInstance, now: number): Body {
  const active = inst.activeDevice();
  const backup = inst.backupDevice();
  const online = active.hcStateAt(now) === 'online';
  const body: Body = {
    SmartAGId: inst.smartAgId,
    Name: inst.name,
    Description: inst.description,
    Status: inst.statusAt(now),
    SerialNumber: [active, ...(backup ? [backup] : [])].map((d) => d.serialNumber).join(','),
    SoftwareVersion: active.softwareVersion,
    HardwareVersion: inst.hardwareVersion,
    AssociatedCcnId: inst.associatedCcnId ?? '',
    AssociatedCcnName: inst.associatedCcnName ?? '',
    CreateTime: inst.createTime,
    EndTime: inst.endTime,
    DpiStatus: inst.dpiStatus,
    DpiMonitorStatus: inst.dpiMonitorStatus,
    EnableAdvancedMonitor: inst.dpiStatus === 'On',
    VpnStatus: online ? 'up' : 'down',
    IpsecStatus: online ? 'up' : 'down',
    MaxBandwidth: inst.maxBandwidth,
    City: inst.city,
    RoutingStrategy: 'static',
    SecurityLockThreshold: inst.securityLockThreshold,
    Links: links(inst),
    ResourceGroupId: 'rg-acfm00000000000',
  };
  if (backup) {
    body.BackupSoftwareVersion = backup.softwareVersion;
    body.BackupStatus = backup.hcStateAt(now) === 'online' ? 'Active' : 'Offline';
  }
  return body;
}

function matchesFilters(
  inst: SimInstance,
  params: Params,
  ids: Set<string> | undefined,
  now: number,
): boolean {
  if (ids && !ids.has(inst.smartAgId)) return false;
  if (params.SmartAGId && params.SmartAGId !== inst.smartAgId) return false;
  if (params.SerialNumber && !inst.devices.some((d) => d.serialNumber === params.SerialNumber)) return false;
  if (params.Name && params.Name !== inst.name) return false;
  if (params.Status && params.Status !== inst.statusAt(now)) return false;
  if (params.HardwareType && params.HardwareType !== inst.hardwareVersion) return false;
  if (
    params.InstanceType &&
    params.InstanceType !== (inst.hardwareVersion === 'sag-software' ? 'software' : 'hardware')
  )
    return false;
  if (params.AssociatedCcnId && params.AssociatedCcnId !== inst.associatedCcnId) return false;
  if (params.BusinessState && params.BusinessState !== (inst.inArrears(now) ? 'Arrearage' : 'Normal'))
    return false;
  if (params.SoftwareVersion) {
    const c = compareVersions(inst.activeDevice().softwareVersion, params.SoftwareVersion);
    switch (params.VersionComparator ?? 'equals') {
      case 'greater':
        return c > 0;
      case 'less':
        return c < 0;
      default:
        return c === 0;
    }
  }
  return true;
}

function positiveInt(params: Params, name: string, dflt: number, max: number): number {
  const raw = params[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw invalidParameter(name);
  return n;
}

function describeSmartAccessGateways(params: Params, ctx: ActionContext): Body {
  const pageNumber = positiveInt(params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER);
  const pageSize = positiveInt(params, 'PageSize', 10, 50);
  if (params.VersionComparator && !['greater', 'less', 'equals'].includes(params.VersionComparator)) {
    throw invalidParameter('VersionComparator');
  }
  let ids: Set<string> | undefined;
  for (let i = 1; params[`SmartAGIds.${i}`] !== undefined; i++)
    (ids ??= new Set()).add(params[`SmartAGIds.${i}`]!);
  let candidates: Iterable<SimInstance>;
  if (ids) {
    candidates = [...ids]
      .map((id) => ctx.fleet.instances.get(id))
      .filter((x): x is SimInstance => !!x && (!params.RegionId || x.regionId === params.RegionId));
  } else if (params.RegionId) {
    candidates = ctx.fleet.byRegion.get(params.RegionId) ?? [];
  } else {
    candidates = ctx.fleet.instances.values();
  }
  const start = (pageNumber - 1) * pageSize;
  const page: Body[] = [];
  let total = 0;
  for (const inst of candidates) {
    inst.settle(ctx.now);
    if (!matchesFilters(inst, params, ids, ctx.now)) continue;
    if (total >= start && page.length < pageSize) page.push(summary(inst, ctx.now));
    total++;
  }
  return {
    TotalCount: total,
    PageNumber: pageNumber,
    PageSize: pageSize,
    SmartAccessGateways: { SmartAccessGateway: page },
  };
}

function describeSmartAccessGatewayAttribute(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const now = ctx.now;
  const active = inst.activeDevice();
  const backup = inst.backupDevice();
  const online = active.hcStateAt(now) === 'online';
  return {
    SmartAGId: inst.smartAgId,
    Name: inst.name,
    Description: inst.description,
    Status: inst.status === 'Active' ? inst.statusAt(now) : inst.status,
    InstanceType: inst.hardwareVersion,
    SerialNumber: [active, ...(backup ? [backup] : [])].map((d) => d.serialNumber).join(','),
    TrafficMasterSn: active.serialNumber,
    BoxControllerIp: '47.100.0.1',
    BackupBoxControllerIp: backup ? '47.100.0.2' : '',
    EndTime: inst.endTime,
    CreateTime: inst.createTime,
    MaxBandwidth: inst.maxBandwidth,
    RoutingStrategy: 'static',
    SecurityLockThreshold: inst.securityLockThreshold,
    City: inst.city,
    VpnStatus: online ? 'up' : 'down',
    IpsecStatus: online ? 'up' : 'down',
    DataPlan: 0,
    EnableOptimization: false,
    EnableSoftwareConnectionAudit: false,
    AclIds: { AclId: [] },
    QosIds: { QosId: [] },
    FlowLogIds: { FlowLogId: [] },
    IRIds: { IRId: [] },
    Links: links(inst),
    ResourceGroupId: 'rg-acfm00000000000',
    Devices: {
      Device: inst.devices.map((d) => ({
        SerialNumber: d.serialNumber,
        SoftwareVersion: d.softwareVersion,
        DpiSignatureDbVersion: d.dpiSignatureDbVersion,
        HaState: d.haState,
        HcState: d.hcStateAt(now),
        MonitorVersion: d.monitorVersion,
        DistributeSkStatus: 1,
        // The real service returns the device key here; clients must never keep it.
        SecretKey: d.secretKey,
      })),
    },
  };
}

function describeSmartAccessGatewayVersions(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  if (params.SmartAGSn) deviceOf(inst, params.SmartAGSn);
  const type = versionType(params);
  return {
    SmartAGVersions: {
      SmartAGVersion: inst.offeredVersions(type).map((v) => ({
        VersionCode: v.VersionCode,
        VersionName: v.VersionName ?? v.VersionCode,
        Type: v.Type,
        CreateTime: v.CreateTime ?? 1600000000000,
      })),
    },
  };
}

function describeSmartAccessGatewayHa(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const active = inst.activeDevice();
  const backup = inst.backupDevice();
  return {
    SmartAGId: inst.smartAgId,
    DeviceLevelBackupState: inst.backupType === 'no_backup' ? 'OFF' : 'ON',
    DeviceLevelBackupType: inst.backupType,
    MainDeviceId: active.serialNumber,
    BackupDeviceId: backup?.serialNumber ?? '',
    LinkBackupInfoList: { LinkBackupInfoList: linkBackupInfo(inst) },
  };
}

function describeDeviceAutoUpgradePolicy(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const d = deviceOf(inst, params.SerialNumber!);
  const p = d.policies[versionType(params)];
  return {
    SmartAGId: inst.smartAgId,
    SerialNumber: d.serialNumber,
    UpgradeType: p.UpgradeType,
    CronExpression: p.CronExpression,
    Duration: p.Duration,
    Jitter: p.Jitter,
    TimeZone: p.TimeZone,
  };
}

function modifyDeviceAutoUpgradePolicy(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const d = deviceOf(inst, params.SerialNumber!);
  const type = versionType(params);
  const upgradeType = params.UpgradeType as (typeof UPGRADE_TYPES)[number];
  if (!UPGRADE_TYPES.includes(upgradeType)) throw invalidParameter('UpgradeType');
  const duration = Number(params.Duration);
  if (!/^\d+$/.test(params.Duration ?? '') || duration < 30 || duration > 120)
    throw invalidParameter('Duration');
  if (!(TIME_ZONES as readonly string[]).includes(params.TimeZone!)) throw invalidParameter('TimeZone');
  try {
    validateCron(params.CronExpression!, params.TimeZone!);
  } catch {
    throw invalidParameter('CronExpression');
  }
  d.setPolicy(type, {
    UpgradeType: upgradeType,
    CronExpression: params.CronExpression!,
    Duration: String(duration),
    TimeZone: params.TimeZone!,
  });
  return {};
}

function describeSagDeviceInfo(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx, 'SAG.InstanceNoFound');
  if (inst.hardwareVersion === 'sag-software') throw rpcError('SAG.SoftwareNotSupport');
  const d = inst.device(params.SmartAGSn!);
  if (!d) throw rpcError('SAG.InstanceNoFound');
  const online = d.hcStateAt(ctx.now) === 'online';
  return {
    Version: d.softwareVersion,
    StartupTime: d.startupTimeString(),
    ...controllerFields(d, ctx.now),
    VpnState: online ? 'Normal' : 'Abnormal',
    SynStatus: 'Synchronized',
    ResettableStatus: 'Enabled',
    SmartAGType: inst.hardwareVersion,
    ServiceIP: '10.0.0.1',
  };
}

function getSmartAgDpiAttribute(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  return {
    DpiStatus: inst.dpiStatus,
    DpiMonitorStatus: inst.dpiMonitorStatus,
    LogstoreName: inst.dpiStatus === 'On' ? 'sag-dpi-logstore' : '',
    ProjectName: inst.dpiStatus === 'On' ? `sag-dpi-${inst.regionId}` : '',
    SlsRegion: inst.regionId,
  };
}

function rebootSmartAccessGateway(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const targets = params.SerialNumber ? [deviceOf(inst, params.SerialNumber)] : inst.devices;
  if (targets.some((d) => d.hcStateAt(ctx.now) !== 'online')) throw rpcError('SmartAccessGatewayNotOnline');
  for (const d of targets) if (!d.operation) d.startOperation('reboot', 'Device', undefined, ctx.now, false);
  return {};
}

function describeRegions(params: Params, ctx: ActionContext): Body {
  const english = params.AcceptLanguage === 'en-US';
  return {
    Regions: {
      Region: ctx.fleet.regions.map((r) => ({
        RegionId: r,
        LocalName: REGION_NAMES[r]?.[english ? 1 : 0] ?? r,
        RegionEndpoint: `smartag.${r}.aliyuncs.com`,
      })),
    },
  };
}

/**
 * `UpdateSmartAccessGatewayVersion`: every documented error follows from the instance's and the
 * device's state, checked in the order a request would meet them.
 */
function updateSmartAccessGatewayVersion(params: Params, ctx: ActionContext): Body {
  const type = versionType(params);
  const inst = instanceOf(params, ctx);
  const now = ctx.now;
  if (inst.ownerId !== undefined && inst.ownerId !== ctx.accountId) throw rpcError('PermissionError');
  if (inst.forbidden) throw rpcError('Forbidden');
  const targets = params.SerialNumber ? [deviceOf(inst, params.SerialNumber)] : inst.devices;
  if (inst.notActivated()) throw rpcError('SmartAccessGatewayNotActivated');
  if (inst.inArrears(now)) throw rpcError('SmartAccessGatewayInArrears');
  if (!inst.associatedCcnId) throw rpcError('NotBoundCCN');
  if (targets.some((d) => d.hcStateAt(now) === 'unknown')) throw rpcError('GetSmartAccessGatewayStateError');
  if (inst.status === 'Offline' || targets.some((d) => d.hcStateAt(now) !== 'online'))
    throw rpcError('SmartAccessGatewayNotOnline');
  const current = (d: SimDevice) => (type === 'Device' ? d.softwareVersion : d.dpiSignatureDbVersion);
  if (targets.some((d) => !current(d))) throw rpcError('GetSmartAccessGatewayVersionError');
  const target = params.VersionCode!;
  if (!inst.offeredVersions(type).some((v) => v.VersionCode === target)) throw rpcError('VersionNotExist');
  if (type === 'Dpi' && inst.dpiStatus !== 'On') {
    throw new RpcError(
      'OperationDenied.DpiDisabled',
      400,
      'DPI is not enabled on the specified smart access gateway.',
    );
  }
  const eligible = targets.filter(
    (d) => d.simulation.allowDowngrade || compareVersions(target, current(d)) > 0,
  );
  if (eligible.length === 0) throw rpcError('VersionTooOld');
  for (const d of eligible) {
    d.upgradeCalls++;
    d.upgradeCallsByVersion[target] = (d.upgradeCallsByVersion[target] ?? 0) + 1;
    // A second call while one is in progress is accepted (the API has no idempotency token) and
    // only counted, so tests can detect double sends.
    const started = !d.operation;
    if (started) d.startOperation('upgrade', type, target, now, false);
    ctx.onUpgradeAccepted?.({ instance: inst, device: d, versionCode: target, versionType: type, started });
  }
  return {};
}

export const ACTIONS: Record<string, ActionDefinition> = {
  UpdateSmartAccessGatewayVersion: {
    required: ['SmartAGId', 'VersionCode', 'RegionId'],
    handle: updateSmartAccessGatewayVersion,
  },
  DescribeSmartAccessGateways: { required: [], handle: describeSmartAccessGateways },
  DescribeSmartAccessGatewayAttribute: {
    required: ['RegionId', 'SmartAGId'],
    handle: describeSmartAccessGatewayAttribute,
  },
  DescribeSmartAccessGatewayVersions: {
    required: ['RegionId', 'SmartAGId'],
    handle: describeSmartAccessGatewayVersions,
  },
  DescribeSmartAccessGatewayHa: { required: ['RegionId', 'SmartAGId'], handle: describeSmartAccessGatewayHa },
  DescribeDeviceAutoUpgradePolicy: {
    required: ['RegionId', 'SmartAGId', 'SerialNumber'],
    handle: describeDeviceAutoUpgradePolicy,
  },
  ModifyDeviceAutoUpgradePolicy: {
    required: [
      'RegionId',
      'SmartAGId',
      'SerialNumber',
      'CronExpression',
      'Duration',
      'TimeZone',
      'UpgradeType',
    ],
    handle: modifyDeviceAutoUpgradePolicy,
  },
  DescribeSAGDeviceInfo: { required: ['RegionId', 'SmartAGId', 'SmartAGSn'], handle: describeSagDeviceInfo },
  GetSmartAGDpiAttribute: { required: ['RegionId', 'SmartAGId'], handle: getSmartAgDpiAttribute },
  RebootSmartAccessGateway: { required: ['RegionId', 'SmartAGId'], handle: rebootSmartAccessGateway },
  DescribeRegions: { required: [], handle: describeRegions },
  ...HEALTH_ACTIONS,
};
