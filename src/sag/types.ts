/**
 * Typed, normalised shapes of the smartag (2018-03-13) actions the project uses. The client
 * (src/sag/client.ts) validates Alibaba's JSON into these plain objects, so nothing from
 * json-bigint (null-prototype objects, BigNumbers) crosses an activity boundary.
 */

export type VersionType = 'Device' | 'Dpi';

/** One entry of `DescribeSmartAccessGateways.SmartAccessGateways.SmartAccessGateway[]`. */
export interface InstanceSummary {
  smartAgId: string;
  regionId: string;
  name?: string;
  /** Ordered | Delivered | Received | Returning | Active | init | Offline | Arrearage | Unconfirmed */
  status: string;
  /** Every device's serial number (Alibaba returns `"sn1,sn2"` for an HA pair). */
  serialNumbers: string[];
  softwareVersion?: string;
  backupSoftwareVersion?: string;
  backupStatus?: string;
  /** sag-1000 | sag-100wm | sag-software | sag-vcpe */
  hardwareVersion?: string;
  associatedCcnId?: string;
  /** Expiry, ms since epoch. */
  endTime?: number;
  dpiStatus?: 'On' | 'Off';
  /** Seconds offline before the device is locked. */
  securityLockThreshold?: number;
}

/** One physical device of `DescribeSmartAccessGatewayAttribute.Devices.Device[]` (SecretKey is dropped). */
export interface DeviceAttribute {
  serialNumber: string;
  softwareVersion: string;
  dpiSignatureDbVersion?: string;
  haState?: 'Active' | 'Standby' | (string & {});
  hcState: 'online' | 'offline' | (string & {});
}

export interface InstanceAttribute {
  smartAgId: string;
  regionId: string;
  status: string;
  /** sag-1000 | sag-10wm | sag-software | sag-vcpe */
  instanceType?: string;
  /** CCN the instance is bound to, from `Links.Link[]` of Type ccn (or AssociatedCcnId). */
  associatedCcnId?: string;
  endTime?: number;
  securityLockThreshold?: number;
  /** Serial number of the device carrying traffic. */
  trafficMasterSn?: string;
  devices: DeviceAttribute[];
  /** `Links.Link[]`: the instance's links (CCN, VBR) with their status. */
  links: LinkState[];
  requestId: string;
}

/** One link of an instance (`Links.Link[]`). */
export interface LinkState {
  instanceId: string;
  /** ccn | vbr */
  type?: string;
  /** As Alibaba reports it; compared before and after an upgrade, not interpreted. */
  status: string;
}

/** One entry of `DescribeSmartAccessGatewayHa.LinkBackupInfoList`. */
export interface LinkBackup {
  mainLinkId: string;
  /** up | down */
  mainLinkState: string;
  backupLinkId: string;
  /** up | down */
  backupLinkState: string;
}

/** The last diagnosis of a device (`DiscribeSmartAccessGatewayDiagnosisReport`). */
export interface DiagnosisReport {
  /** `processing`, `finished`, or a failed end: `failed`, `error`, `upload_to_sls_fail` (the SDK model's values). */
  state: string;
  percent: number;
  /** `DiagnoseId`, when the report names one. */
  diagnoseId?: string;
  /** `StartTime` of the diagnosis in ms since epoch (seconds in the answer are converted), when given. */
  startTime?: number;
  /** Every item of every detail group, with its level (`error`, `warning`, `info`). */
  items: { name: string; level: string }[];
  requestId: string;
}

export interface VersionEntry {
  versionCode: string;
  type: 'beta' | 'release' | (string & {});
  versionName?: string;
  createTime?: number;
}

export interface HaInfo {
  /** warm_backup (active-active) | cold_backup (active-standby) | no_backup */
  backupType: string;
  state: 'ON' | 'OFF' | (string & {});
  mainDeviceId?: string;
  backupDeviceId?: string;
  /** Main and backup WAN links of the active device. */
  linkBackup: LinkBackup[];
  requestId: string;
}

export type UpgradeType = 'scheduled' | 'boot' | 'manual';

export interface AutoUpgradePolicy {
  serialNumber: string;
  versionType: VersionType;
  upgradeType: UpgradeType;
  cronExpression?: string;
  /** Minutes, 30-120. */
  duration?: number;
  /** Minutes; Modify cannot set it, so a restore cannot bring it back. */
  jitter?: string;
  timeZone?: string;
  requestId: string;
}

export interface DeviceInfo {
  serialNumber: string;
  version?: string;
  /** `YYYY-MM-DD hh:mm:ss`, zone as the service reports it. */
  startupTime?: string;
  controllerState?: 'Normal' | 'Abnormal' | (string & {});
  lastConnectedControllerTime?: string;
  requestId: string;
}

export interface DescribeGatewaysQuery {
  regionId: string;
  smartAgIds?: string[];
  smartAgId?: string;
  status?: string;
  softwareVersion?: string;
  versionComparator?: 'greater' | 'less' | 'equals';
  hardwareType?: string;
  pageNumber?: number;
  /** 1-50. */
  pageSize?: number;
}

export interface DescribeGatewaysPage {
  totalCount: number;
  pageNumber: number;
  pageSize: number;
  items: InstanceSummary[];
  requestId: string;
}

export interface UpgradeRequest {
  regionId: string;
  smartAgId: string;
  versionCode: string;
  serialNumber?: string;
  versionType?: VersionType;
}

export interface ModifyPolicyRequest {
  regionId: string;
  smartAgId: string;
  serialNumber: string;
  versionType: VersionType;
  upgradeType: UpgradeType;
  cronExpression: string;
  duration: number;
  timeZone: string;
}

/** One API call as the audit trail records it. Never holds a credential. */
export interface ApiCallRecord {
  action: string;
  regionId?: string;
  smartAgId?: string;
  serialNumber?: string;
  requestId?: string;
  /** Alibaba `Code` of a failure, or a transport code (`RequestTimeout`, `ConnectionReset`, `InvalidResponse`). */
  code?: string;
  httpStatus?: number;
  startedAt: number;
  durationMs: number;
}

/** Every call the project makes to smartag. Each method throws {@link SagError} on failure. */
export interface SagClient {
  describeSmartAccessGateways(query: DescribeGatewaysQuery): Promise<DescribeGatewaysPage>;
  describeSmartAccessGatewayAttribute(regionId: string, smartAgId: string): Promise<InstanceAttribute>;
  describeSmartAccessGatewayVersions(
    regionId: string,
    smartAgId: string,
    versionType: VersionType,
    serialNumber?: string,
  ): Promise<{ versions: VersionEntry[]; requestId: string }>;
  describeSmartAccessGatewayHa(regionId: string, smartAgId: string): Promise<HaInfo>;
  describeDeviceAutoUpgradePolicy(
    regionId: string,
    smartAgId: string,
    serialNumber: string,
    versionType: VersionType,
  ): Promise<AutoUpgradePolicy>;
  modifyDeviceAutoUpgradePolicy(req: ModifyPolicyRequest): Promise<{ requestId: string }>;
  describeSagDeviceInfo(regionId: string, smartAgId: string, serialNumber: string): Promise<DeviceInfo>;
  getSmartAgDpiAttribute(
    regionId: string,
    smartAgId: string,
  ): Promise<{ dpiStatus: string; requestId: string }>;
  updateSmartAccessGatewayVersion(req: UpgradeRequest): Promise<{ requestId: string }>;
  /** Starts a diagnosis of one device; its report follows through {@link describeDiagnosisReport}. */
  diagnoseSmartAccessGateway(
    regionId: string,
    smartAgId: string,
    serialNumber: string,
  ): Promise<{ requestId: string }>;
  describeDiagnosisReport(
    regionId: string,
    smartAgId: string,
    serialNumber: string,
  ): Promise<DiagnosisReport>;
  /** The features of `openApiName` the device's version does not support. */
  listUnsupportedFeatures(
    regionId: string,
    smartAgId: string,
    serialNumber: string,
    openApiName: string,
  ): Promise<{ features: string[]; requestId: string }>;
  describeRegions(): Promise<{
    regions: { regionId: string; localName?: string; regionEndpoint?: string }[];
    requestId: string;
  }>;
}
