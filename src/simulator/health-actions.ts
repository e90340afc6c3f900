import { rpcError } from './errors';
import type { ActionContext, ActionDefinition, Params } from './actions';
import type { SimDevice, SimInstance } from './model';
import { formatDeviceTime } from './versions';

/**
 * The smartag actions and fields that show a branch's health beyond online/offline: the links of
 * an instance, its link backup, the controller connection of a device, the diagnosis and its
 * report, and the features a device's version does not support. Field names follow Alibaba's API
 * reference and the official SDKs' response models; docs/simulator.md says which values are
 * assumptions.
 */

type Body = Record<string, unknown>;

/** The diagnosis items every report lists, in order; failing ones read `Level: error`. */
export const DIAGNOSIS_ITEMS = ['WanConnectivity', 'ControllerReachability', 'RouteSync', 'DnsResolution'];

function instanceOf(params: Params, ctx: ActionContext): SimInstance {
  const inst = ctx.fleet.instances.get(params.SmartAGId ?? '');
  if (!inst || (params.RegionId !== undefined && inst.regionId !== params.RegionId))
    throw rpcError('InvalidId.SMARTAG');
  return inst.settle(ctx.now);
}

function deviceOf(inst: SimInstance, sn: string | undefined): SimDevice {
  const d = inst.device(sn ?? '');
  if (!d) throw rpcError('SAG.InvalidSerialNumber');
  return d;
}

/** `Active` while the active device's uplink works, `Inactive` while it is down. */
export function linkStatus(inst: SimInstance): string {
  return inst.activeDevice().health.linkDown ? 'Inactive' : 'Active';
}

/** `LinkBackupInfoList` of `DescribeSmartAccessGatewayHa`: the main and backup WAN links of the active device. */
export function linkBackupInfo(inst: SimInstance): Body[] {
  if (!inst.associatedCcnId) return [];
  const active = inst.activeDevice();
  return [
    {
      LinkLevelBackupState: 'ON',
      LinkLevelBackupType: 'StandbyMode',
      MainLinkId: 'wan1',
      MainLinkState: active.health.linkDown ? 'down' : 'up',
      BackupLinkId: 'wan2',
      BackupLinkState: 'up',
    },
  ];
}

/** `ControllerState` and `LastConnectedControllerTime` of `DescribeSAGDeviceInfo`. */
export function controllerFields(d: SimDevice, now: number): Body {
  const online = d.hcStateAt(now) === 'online';
  const lost = d.health.controllerLostAt;
  const connected = online && (lost === undefined || lost > now);
  const lastConnected = connected
    ? now
    : Math.min(now, lost ?? Infinity, d.operation?.offlineAt ?? d.startupTime);
  return {
    LastConnectedControllerTime: formatDeviceTime(lastConnected),
    ControllerState: connected ? 'Normal' : 'Abnormal',
  };
}

function diagnoseSmartAccessGateway(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const d = deviceOf(inst, params.SmartAGSn);
  if (d.hcStateAt(ctx.now) !== 'online') throw rpcError('SmartAccessGatewayNotOnline');
  d.previousDiagnosis = d.diagnosis;
  d.diagnosis = {
    startedAt: ctx.now,
    endsAt: ctx.now + d.ms(d.simulation.diagnosisSeconds),
    failing: [...d.health.failingDiagnosis],
  };
  return {};
}

function diagnosisReport(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const d = deviceOf(inst, params.SmartAGSn);
  const lagging =
    d.previousDiagnosis !== undefined &&
    d.diagnosis !== undefined &&
    ctx.now < d.diagnosis.startedAt + d.ms(d.simulation.diagnosisLagSeconds);
  const run = lagging ? d.previousDiagnosis : d.diagnosis;
  const finished = run !== undefined && ctx.now >= run.endsAt;
  const end = finished && !lagging ? d.simulation.diagnosisEnd : 'finished';
  const items =
    finished && end === 'finished'
      ? DIAGNOSIS_ITEMS.map((name) => {
          const level = run.failing.includes(name) ? 'error' : 'info';
          return {
            ItemName: name,
            Type: 'connectivity',
            Level: level,
            StartTime: run.startedAt,
            EndTime: run.endsAt,
            EN: { ItemName: name, ItemLevel: level, ItemType: 'connectivity', Advice: [], Details: [] },
            CN: { ItemName: name, ItemLevel: level, ItemType: 'connectivity', Advice: [], Details: [] },
          };
        })
      : [];
  const errors = items.filter((i) => i.Level === 'error').length;
  const stats = { Total: items.length, Error: errors, Warning: 0, Info: items.length - errors };
  return {
    DiagnoseResult: {
      DiagnoseId: run ? `diag-${d.serialNumber}-${run.startedAt}` : '',
      InstanceId: inst.smartAgId,
      SN: d.serialNumber,
      BoxVersion: d.softwareVersion,
      MonitorVersion: d.monitorVersion,
      State: run === undefined ? 'init' : finished ? end : 'processing',
      Percent: run === undefined ? 0 : finished ? 100 : 50,
      StartTime: run ? Math.floor(run.startedAt / 1000) : 0,
      EndTime: finished ? Math.floor(run.endsAt / 1000) : 0,
      TotalNumber: DIAGNOSIS_ITEMS.length,
      FinishedNumber: items.length,
      Statistics: stats,
      Level: {
        Total: errors > 0 ? 'error' : 'normal',
        Biz: errors > 0 ? 'error' : 'normal',
        Configuration: 'normal',
      },
      Details: items.length > 0 ? [{ Type: 'connectivity', Items: items, Statistics: stats }] : [],
    },
  };
}

function listUnsupportedFeatures(params: Params, ctx: ActionContext): Body {
  const inst = instanceOf(params, ctx);
  const d = deviceOf(inst, params.SerialNumber);
  const entry = inst.versions.Device.find((v) => v.VersionCode === d.softwareVersion);
  const byName = entry?.UnsupportedFeatures ?? {};
  const features = [...new Set([...(byName[params.OpenApiName ?? ''] ?? []), ...(byName['*'] ?? [])])];
  return { Features: { Feature: features } };
}

export const HEALTH_ACTIONS: Record<string, ActionDefinition> = {
  DiagnoseSmartAccessGateway: {
    required: ['RegionId', 'SmartAGId', 'SmartAGSn'],
    handle: diagnoseSmartAccessGateway,
  },
  // Alibaba's spelling.
  DiscribeSmartAccessGatewayDiagnosisReport: {
    required: ['SmartAGId', 'SmartAGSn'],
    handle: diagnosisReport,
  },
  ListSmartAGApiUnsupportedFeature: {
    required: ['RegionId', 'SmartAGId', 'SerialNumber', 'OpenApiName'],
    handle: listUnsupportedFeatures,
  },
};
