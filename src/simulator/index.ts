import { randomBytes } from 'node:crypto';
import {
  DEFAULT_ACCOUNT_ID,
  type CredentialRow,
  type CredentialUpdate,
  type SimulatorCredential,
} from './credentials';
import type { FaultSpec } from './faults';
import { generateFleet, parseFleet, type FleetFile, type GenerateOptions, type ParsedFleet } from './fleet';
import { FleetState, type SimInstance } from './model';
import type { RamPolicy } from './ram-policy';
import { SimulatorServer, type DeviceRow, type RequestLogEntry, type SimulatorStats } from './server';
import type { AcceptedUpgrade, UpgradeFilter } from './upgrades';

/**
 * The SAG simulator: a local endpoint speaking Alibaba Cloud RPC (smartag 2018-03-13) over a
 * simulated fleet. See docs/simulator.md.
 */

export { signRpc, signedParams, canonicalize, stringToSign, percentEncode, rpcTimestamp } from './signature';
export {
  ACS3_HMAC_SHA256,
  canonicalRequest,
  canonicalQueryString,
  canonicalUri,
  parseAuthorization,
  sha256Hex,
  signV3,
  signV3Request,
  stringToSignV3,
} from './signature-v3';
export type { Acs3Authorization, CanonicalRequestParts, V3RequestToSign } from './signature-v3';
export { parseFleet, loadFleetFile, generateFleet, FleetValidationError, OUTCOMES } from './fleet';
export type { FleetFile, ParsedFleet, GenerateOptions, Outcome, SimulationBlock } from './fleet';
export type { FaultSpec, FaultRule, AnswerFormat } from './faults';
export { CredentialError } from './credentials';
export type { SimulatorCredential, CredentialRow, CredentialUpdate } from './credentials';
export type { AcceptedUpgrade, UpgradeFilter } from './upgrades';
export type { RamPolicy } from './ram-policy';
export type { DeviceRow, RequestLogEntry, SignatureScheme, SimulatorStats } from './server';
export { API_VERSION } from './server';
export { UPGRADE_ERRORS, COMMON_ERRORS } from './errors';
export { SimInstance, SimDevice } from './model';
export { compareVersions } from './versions';

export { DEFAULT_ACCOUNT_ID } from './credentials';

export interface SimulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** A fleet (validated by {@link parseFleet} when it is not already parsed). */
  fleet?: FleetFile | ParsedFleet;
  /** Generate a fleet instead; default `{devices: 20, seed: 1}` when neither is given. */
  generate?: GenerateOptions;
  /** Accepted AccessKeys; default one random pair on account 1234567890123456. */
  credentials?: SimulatorCredential[];
  faults?: FaultSpec;
  /** Requests per second allowed per action (`*`: all actions together). */
  qpsLimits?: Record<string, number>;
  /** Entries the request log keeps (ring buffer); default 1000. */
  requestLogSize?: number;
  /**
   * Simulated seconds per real second (default 1): with 30, a device's 180 s download and 420 s
   * flash take 6 s and 14 s. Every `…Seconds` knob of the fleet's `simulation` blocks is scaled.
   * @throws RangeError when it is not a positive finite number.
   */
  timeScale?: number;
}

export interface SimulatorHandle {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** The first credential's AccessKey id, secret and account. */
  accessKeyId: string;
  accessKeySecret: string;
  accountId: string;
  stop(): Promise<void>;
  /** Every device with its upgrade-call counts (GET /_admin/devices). */
  devices(): DeviceRow[];
  /** The request log, oldest first (GET /_admin/requests). */
  requests(limit?: number): RequestLogEntry[];
  stats(): SimulatorStats;
  resetStats(): void;
  /** Replaces the fault configuration (POST /_admin/faults). */
  setFaults(spec: FaultSpec): void;
  /** Sets or removes the RAM policy of an AccessKey. */
  setPolicy(accessKeyId: string, policy: RamPolicy | undefined): void;
  /** Every AccessKey with its state, never a secret or token (GET /_admin/credentials). */
  credentials(): CredentialRow[];
  /**
   * Adds an AccessKey (POST /_admin/credentials).
   * @throws ZodError for a malformed credential; CredentialError (409) when the id is taken.
   */
  addCredential(credential: SimulatorCredential): CredentialRow;
  /**
   * Disables or enables a key, expires or renews its STS token, or replaces the token
   * (POST /_admin/credentials/{AccessKeyId}).
   * @throws CredentialError (404) for an unknown key; ZodError; Error for `expired` on a non-STS key.
   */
  updateCredential(accessKeyId: string, update: CredentialUpdate): CredentialRow;
  /**
   * Deletes an AccessKey (DELETE /_admin/credentials/{AccessKeyId}).
   * @throws CredentialError (404) for an unknown key.
   */
  removeCredential(accessKeyId: string): void;
  /** Accepted UpdateSmartAccessGatewayVersion calls, one entry per device (GET /_admin/upgrades). */
  upgrades(filter?: UpgradeFilter): AcceptedUpgrade[];
  /** The live simulated instance, settled to now, for tests to read or change. */
  instance(smartAgId: string): SimInstance | undefined;
  /** Every live instance. */
  instances(): SimInstance[];
}

/** Random AccessKey pair in Alibaba's shapes (`LTAI…`, 30-character secret). */
export function randomCredentials(): { accessKeyId: string; accessKeySecret: string } {
  const alnum = (n: number) =>
    Array.from(
      randomBytes(n),
      (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62],
    ).join('');
  return { accessKeyId: `LTAI${alnum(20)}`, accessKeySecret: alnum(30) };
}

/**
 * Starts the simulator.
 * @throws FleetValidationError when `fleet` does not validate; a listen error (EADDRINUSE) from node:http.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  // Always validate: parsing is idempotent on an already-parsed fleet and applies defaults.
  const parsed = options.fleet
    ? parseFleet(options.fleet)
    : generateFleet(options.generate ?? { devices: 20, seed: 1 });
  const timeScale = options.timeScale ?? 1;
  if (!(Number.isFinite(timeScale) && timeScale > 0))
    throw new RangeError(`timeScale: expected a positive number, got ${String(options.timeScale)}`);
  const fleet = new FleetState(parsed, Date.now(), timeScale);
  const credentials = options.credentials?.length
    ? options.credentials
    : [{ ...randomCredentials(), accountId: DEFAULT_ACCOUNT_ID }];
  const server = new SimulatorServer({
    fleet,
    credentials,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.qpsLimits ? { qpsLimits: options.qpsLimits } : {}),
    ...(options.requestLogSize ? { requestLogSize: options.requestLogSize } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  const port = await server.listen(options.port ?? 0, host);
  const first = credentials[0]!;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    accessKeyId: first.accessKeyId,
    accessKeySecret: first.accessKeySecret,
    accountId: first.accountId ?? DEFAULT_ACCOUNT_ID,
    stop: () => server.close(),
    devices: () => server.devices(),
    requests: (limit) => server.requests(limit),
    stats: () => server.stats(),
    resetStats: () => server.resetStats(),
    setFaults: (spec) => server.faults.set(spec),
    setPolicy: (ak, policy) => server.setPolicy(ak, policy),
    credentials: () => server.credentials.list(),
    addCredential: (c) => server.credentials.add(c),
    updateCredential: (ak, update) => server.credentials.update(ak, update),
    removeCredential: (ak) => server.credentials.remove(ak),
    upgrades: (filter) => server.upgrades.list(filter),
    instance: (id) => fleet.instances.get(id)?.settle(Date.now()),
    instances: () => [...fleet.instances.values()].map((i) => i.settle(Date.now())),
  };
}
