import RPCClient from '@alicloud/pop-core';
import type { FleetFile, SimulatorHandle } from '../../src/simulator';
import { signV3Request, signedParams } from '../../src/simulator';

/** A pop-core client pointed at the simulator, as production code would build it. */
export function popClient(
  sim: Pick<SimulatorHandle, 'endpoint' | 'accessKeyId' | 'accessKeySecret'>,
  extra: Record<string, unknown> = {},
): RPCClient {
  return new RPCClient({
    endpoint: sim.endpoint,
    apiVersion: '2018-03-13',
    accessKeyId: sim.accessKeyId,
    accessKeySecret: sim.accessKeySecret,
    ...extra,
  });
}

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function call(
  client: RPCClient,
  action: string,
  params: Record<string, unknown>,
  method: 'GET' | 'POST' = 'POST',
  timeout?: number,
): Promise<Json> {
  return client.request<Json>(action, params, { method, ...(timeout ? { timeout } : {}) });
}

/** The rejection of a pop-core call (an Error, or json-bigint's plain SyntaxError object). */
export async function failure(p: Promise<unknown>): Promise<Json> {
  try {
    await p;
  } catch (e) {
    return e as Json;
  }
  throw new Error('expected the call to fail');
}

/** Sends a hand-signed request with fetch; `mutate` may tamper with the signed parameters. */
export async function rawRequest(
  sim: Pick<SimulatorHandle, 'endpoint' | 'accessKeyId' | 'accessKeySecret'>,
  action: string,
  params: Record<string, string>,
  options: {
    method?: 'GET' | 'POST';
    accessKeyId?: string;
    secret?: string;
    timestamp?: string;
    nonce?: string;
    version?: string;
    securityToken?: string;
    mutate?: (p: Record<string, string>) => void;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: Json }> {
  const method = options.method ?? 'GET';
  const signed = signedParams(
    action,
    params,
    {
      accessKeyId: options.accessKeyId ?? sim.accessKeyId,
      accessKeySecret: options.secret ?? sim.accessKeySecret,
      ...(options.securityToken ? { securityToken: options.securityToken } : {}),
    },
    {
      method,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...(options.version ? { version: options.version } : {}),
    },
  );
  options.mutate?.(signed);
  const qs = new URLSearchParams(signed).toString();
  const res =
    method === 'GET'
      ? await fetch(`${sim.endpoint}/?${qs}`, { headers: options.headers ?? {} })
      : await fetch(`${sim.endpoint}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(options.headers ?? {}) },
          body: qs,
        });
  return { status: res.status, body: (await res.json()) as Json };
}

/** A V3 request being built: what `mutate` may change after signing. */
export interface V3Draft {
  headers: Record<string, string>;
  query: Record<string, string>;
  body: string;
}

/**
 * Sends a hand-signed V3 (ACS3-HMAC-SHA256) request with fetch. Parameters go in the query string
 * (`in: 'query'`, the default for GET), a form body (`'form'`, the default for POST) or a JSON
 * body (`'json'`); `mutate` may tamper with the signed request before it leaves.
 */
export async function rawV3Request(
  sim: Pick<SimulatorHandle, 'endpoint' | 'accessKeyId' | 'accessKeySecret'>,
  action: string,
  params: Record<string, unknown>,
  options: {
    method?: 'GET' | 'POST';
    in?: 'query' | 'form' | 'json';
    accessKeyId?: string;
    secret?: string;
    securityToken?: string;
    date?: string;
    nonce?: string;
    version?: string;
    extraHeaders?: Record<string, string>;
    /** A body to sign and send instead of the one built from `params`. */
    body?: string;
    mutate?: (draft: V3Draft) => void;
  } = {},
): Promise<{ status: number; body: Json }> {
  const method = options.method ?? 'POST';
  const where = options.in ?? (method === 'GET' ? 'query' : 'form');
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((item, i) => (flat[`${k}.${i + 1}`] = String(item)));
    else flat[k] = String(v);
  }
  const query = where === 'query' ? flat : {};
  const body =
    options.body ??
    (where === 'form'
      ? new URLSearchParams(flat).toString()
      : where === 'json'
        ? JSON.stringify(params)
        : '');
  const contentType =
    where === 'form'
      ? 'application/x-www-form-urlencoded'
      : where === 'json'
        ? 'application/json; charset=utf-8'
        : undefined;
  const headers = signV3Request(
    {
      method,
      host: new URL(sim.endpoint).host,
      action,
      query,
      body,
      ...(contentType ? { contentType } : {}),
      ...(options.version ? { version: options.version } : {}),
    },
    {
      accessKeyId: options.accessKeyId ?? sim.accessKeyId,
      accessKeySecret: options.secret ?? sim.accessKeySecret,
      ...(options.securityToken ? { securityToken: options.securityToken } : {}),
    },
    {
      ...(options.date ? { date: options.date } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
    },
  );
  const draft: V3Draft = { headers, query: { ...query }, body };
  options.mutate?.(draft);
  // fetch sets Host itself, to the same value.
  const { host: _host, ...sent } = draft.headers;
  const qs = new URLSearchParams(draft.query).toString();
  const res = await fetch(`${sim.endpoint}/${qs ? `?${qs}` : ''}`, {
    method,
    headers: sent,
    ...(method === 'POST' && draft.body ? { body: draft.body } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const FUTURE = 4102444800000;

/** A small fleet with one instance for every state the tests need. */
export function testFleet(overrides: { upgradeSeconds?: number; downloadSeconds?: number } = {}): FleetFile {
  const sim = {
    downloadSeconds: overrides.downloadSeconds ?? 0.15,
    upgradeSeconds: overrides.upgradeSeconds ?? 0.3,
    flapSeconds: 0.1,
    rebootSeconds: 0.2,
    dpiUpgradeSeconds: 0.1,
  };
  const single = (id: string, sv = '2.3.0.0', extra: Json = {}, device: Json = {}): Json => ({
    SmartAGId: id,
    RegionId: 'cn-shanghai',
    Status: 'Active',
    AssociatedCcnId: 'ccn-01',
    EndTime: FUTURE,
    Devices: [
      { SerialNumber: `sn-${id}`, SoftwareVersion: sv, HaState: 'Active', HcState: 'online', ...device },
    ],
    ...extra,
  });
  return {
    versions: {
      Device: [
        { VersionCode: '2.2.0.0', Type: 'release' },
        { VersionCode: '2.3.0.0', Type: 'release' },
        { VersionCode: '2.4.0.0', Type: 'release' },
        { VersionCode: '2.5.0.0', Type: 'beta' },
      ],
      Dpi: [
        { VersionCode: '20201117_1_0-0.0.1', Type: 'release' },
        { VersionCode: '20220610_1_0-0.0.3', Type: 'release' },
      ],
    },
    simulation: sim,
    instances: [
      single('sag-ok1'),
      single('sag-ok2'),
      single('sag-ok3'),
      single('sag-hz1', '2.3.0.0', { RegionId: 'cn-hangzhou' }),
      {
        SmartAGId: 'sag-ha1',
        RegionId: 'cn-shanghai',
        AssociatedCcnId: 'ccn-01',
        EndTime: FUTURE,
        DeviceLevelBackupType: 'cold_backup',
        Devices: [
          { SerialNumber: 'sn-ha1-a', SoftwareVersion: '2.3.0.0', HaState: 'Active', HcState: 'online' },
          { SerialNumber: 'sn-ha1-b', SoftwareVersion: '2.3.0.0', HaState: 'Standby', HcState: 'online' },
        ],
      },
      {
        SmartAGId: 'sag-warm1',
        RegionId: 'cn-shanghai',
        AssociatedCcnId: 'ccn-01',
        EndTime: FUTURE,
        DeviceLevelBackupType: 'warm_backup',
        Devices: [
          { SerialNumber: 'sn-warm1-a', SoftwareVersion: '2.3.0.0' },
          { SerialNumber: 'sn-warm1-b', SoftwareVersion: '2.3.0.0' },
        ],
      },
      single('sag-offline', '2.3.0.0', { Status: 'Offline' }, { HcState: 'offline' }),
      single('sag-unbound', '2.3.0.0', { AssociatedCcnId: undefined }),
      single('sag-expired', '2.3.0.0', { EndTime: 1600000000000 }),
      single('sag-arrears', '2.3.0.0', { Status: 'Arrearage' }),
      single('sag-inactive', '2.3.0.0', { Status: 'Ordered' }),
      single('sag-newer', '2.4.0.0'),
      single('sag-downgrade', '2.4.0.0', {}, { simulation: { allowDowngrade: true } }),
      single('sag-software', '2.3.0.0', { HardwareVersion: 'sag-software' }),
      single('sag-noversion', ''),
      single('sag-nostate', '2.3.0.0', {}, { HcState: 'unknown' }),
      single('sag-forbidden', '2.3.0.0', { simulation: { forbidden: true } }),
      single('sag-foreign', '2.3.0.0', { OwnerId: '999999' }),
      single('sag-revert', '2.3.0.0', {}, { simulation: { outcome: 'revert' } }),
      single('sag-stay', '2.3.0.0', {}, { simulation: { outcome: 'stay-offline' } }),
      single('sag-flap', '2.3.0.0', {}, { simulation: { outcome: 'flap', flapSeconds: 0.3 } }),
      single(
        'sag-sched',
        '2.3.0.0',
        {},
        {
          AutoUpgradePolicies: {
            Device: {
              UpgradeType: 'scheduled',
              CronExpression: '* * * * * ?',
              Duration: '60',
              TimeZone: 'Asia/Shanghai',
            },
          },
        },
      ),
      single('sag-dpioff', '2.3.0.0', { DpiStatus: 'Off' }),
    ],
  } as FleetFile;
}
