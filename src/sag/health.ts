/**
 * The smartag reads that show a branch's health beyond online/offline: the diagnosis and its
 * report, and the features a device's version does not support. Links, link backup and the
 * controller connection come with the attribute, HA and device-info reads the client makes anyway.
 */
import { field, isJson, optNumber, optString, wrappedList, type Json } from './internal/parse';
import type { DiagnosisReport, LinkBackup, LinkState } from './types';

/** `Links.Link[]` of `DescribeSmartAccessGatewayAttribute`. */
export function toLinks(body: Json): LinkState[] {
  return wrappedList(body, 'Links', 'Link').map((link) => {
    const out: LinkState = {
      instanceId: optString(link, 'InstanceId') ?? '',
      status: optString(link, 'Status') ?? '',
    };
    const type = optString(link, 'Type');
    if (type !== undefined) out.type = type;
    return out;
  });
}

/** `LinkBackupInfoList` of `DescribeSmartAccessGatewayHa`, wrapped (`{LinkBackupInfoList: [...]}`) or plain. */
export function toLinkBackup(body: Json): LinkBackup[] {
  return wrappedList(body, 'LinkBackupInfoList', 'LinkBackupInfoList').map((l) => ({
    mainLinkId: optString(l, 'MainLinkId') ?? '',
    mainLinkState: optString(l, 'MainLinkState') ?? '',
    backupLinkId: optString(l, 'BackupLinkId') ?? '',
    backupLinkState: optString(l, 'BackupLinkState') ?? '',
  }));
}

/** `DiagnoseResult` of `DiscribeSmartAccessGatewayDiagnosisReport`. */
export function toDiagnosisReport(body: Json, requestId: string): DiagnosisReport {
  const result = field(body, 'DiagnoseResult');
  const r: Json = isJson(result) ? result : {};
  const details = Array.isArray(field(r, 'Details')) ? (field(r, 'Details') as unknown[]).filter(isJson) : [];
  const items = details.flatMap((d) => {
    const list = field(d, 'Items');
    return Array.isArray(list) ? list.filter(isJson) : [];
  });
  const id = optString(r, 'DiagnoseId');
  const start = optNumber(r, 'StartTime');
  return {
    state: optString(r, 'State') ?? '',
    percent: optNumber(r, 'Percent') ?? 0,
    ...(id ? { diagnoseId: id } : {}),
    // Seconds or milliseconds since epoch: the documentation does not say which.
    ...(start ? { startTime: start < 1e11 ? start * 1000 : start } : {}),
    items: items.map((i) => ({
      name: optString(i, 'ItemName') ?? optString(field(i, 'EN'), 'ItemName') ?? '',
      level: optString(i, 'Level') ?? optString(field(i, 'EN'), 'ItemLevel') ?? '',
    })),
    requestId,
  };
}

/** `Features.Feature[]` of `ListSmartAGApiUnsupportedFeature` (strings). */
export function toFeatures(body: Json): string[] {
  const wrapper = field(body, 'Features');
  const list = Array.isArray(wrapper) ? wrapper : field(wrapper, 'Feature');
  if (Array.isArray(list)) return list.filter((x): x is string => typeof x === 'string');
  return typeof list === 'string' ? [list] : [];
}
