import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTIONS } from './actions';
import {
  assertKeyUsable,
  CredentialError,
  CredentialStore,
  type KeyState,
  type SimulatorCredential,
} from './credentials';
import { missingParameter, rpcError, RpcError } from './errors';
import {
  FaultEngine,
  htmlErrorPage,
  type AfterKind,
  type FaultDecision,
  type FaultRule,
  type FaultSpec,
  type ReplacementAnswer,
} from './faults';
import { OUTCOMES } from './fleet';
import type { FleetState, SimDevice, SimInstance } from './model';
import { resourceFor, type RamPolicy } from './ram-policy';
import { signaturesMatch, signRpc, stringToSign } from './signature';
import {
  ACS3_HMAC_SHA256,
  REQUIRED_SIGNED_HEADERS,
  bodyParameters,
  canonicalRequest,
  isV3Request,
  mustSign,
  parseAuthorization,
  sha256Hex,
  signV3,
  stringToSignV3,
  type Acs3Authorization,
} from './signature-v3';
import { UpgradeLedger, type AcceptedUpgrade, type UpgradeFilter } from './upgrades';

/** The smartag API version the simulator speaks. */
export const API_VERSION = '2018-03-13';
const TIMESTAMP_WINDOW_MS = 15 * 60_000;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const MAX_BODY_BYTES = 1 << 20;
const HISTOGRAM_SECONDS = 3600;

/** A request as the checks see it, whichever signature it uses. */
interface RpcRequest {
  method: string;
  /**
   * Query and body parameters merged (the body wins). For V3 also `Action` and `Version`, taken
   * from `x-acs-action` and `x-acs-version`, so that everything after authentication reads one shape.
   */
  params: Record<string, string>;
  accessKeyId: string | undefined;
  signature: SignatureScheme;
  /** What V3 verification needs; absent for V2. */
  v3?: V3Parts;
}

interface V3Parts {
  headers: http.IncomingHttpHeaders;
  path: string;
  query: [string, string][];
  body: Buffer;
  /** undefined: no Authorization header; null: a header that does not parse. */
  authorization: Acs3Authorization | null | undefined;
  /** A body whose content type promises parameters but does not parse. */
  badBody: boolean;
}

/** The signature scheme of a request: V2 (RPC parameters, HMAC-SHA1) or V3 (`Authorization` header). */
export type SignatureScheme = 'HMAC-SHA1' | 'ACS3-HMAC-SHA256';

/**
 * One request as the log keeps it: never the Signature, the SecurityToken, the Authorization
 * header or a secret.
 */
export interface RequestLogEntry {
  time: string;
  method: string;
  signature: SignatureScheme;
  action: string | undefined;
  accessKeyId: string | undefined;
  smartAgId: string | undefined;
  serialNumber: string | undefined;
  params: Record<string, string>;
  /** The status sent (for hang-after / drop-after: the one the lost answer would have had). */
  httpStatus: number;
  /** The error code sent, if the answer was an Alibaba error. */
  code?: string;
  requestId: string;
  fault?: string;
  /** after-error: the answer the processed request had, which the fault replaced. */
  replaced?: { httpStatus: number; code?: string };
  durationMs: number;
}

/** Request counters, served at GET /_admin/stats. */
export interface SimulatorStats {
  totalRequests: number;
  byAction: Record<string, number>;
  byCode: Record<string, number>;
  /** Requests per HTTP status sent (0: no answer, as for hang and drop). */
  byStatus: Record<string, number>;
  /** Requests that arrived in each wall-clock second (epoch seconds), oldest first, last hour. */
  perSecond: { second: number; count: number }[];
  peakPerSecond: number;
}

/** One row of GET /_admin/devices. */
export interface DeviceRow {
  SmartAGId: string;
  RegionId: string;
  SerialNumber: string;
  HardwareVersion: string;
  Status: string;
  HaState: string;
  HcState: string;
  SoftwareVersion: string;
  DpiSignatureDbVersion: string;
  StartupTime: string;
  upgradeCalls: number;
  upgradeCallsByVersion: Record<string, number>;
  autoUpgrades: number;
  /** The branch's health as the health APIs show it. */
  health: { linkDown: boolean; controllerLost: boolean; failingDiagnosis: string[] };
  upgrading?: {
    versionType: string;
    target?: string;
    phase: 'downloading' | 'flashing' | 'rebooting';
    auto: boolean;
  };
}

/** The HTTP front of the simulator: RPC on every path but /_admin/, and the admin interface. */
export class SimulatorServer {
  readonly fleet: FleetState;
  readonly faults: FaultEngine;
  readonly credentials = new CredentialStore();
  /** Accepted UpdateSmartAccessGatewayVersion calls, served at GET /_admin/upgrades. */
  readonly upgrades = new UpgradeLedger();
  private readonly keys = this.credentials.keys;
  private readonly nonces = new Map<string, number>();
  private readonly maxNonces: number;
  private readonly log: (RequestLogEntry | undefined)[];
  private logNext = 0;
  private logCount = 0;
  private total = 0;
  private readonly byAction = new Map<string, number>();
  private readonly byCode = new Map<string, number>();
  private readonly byStatus = new Map<string, number>();
  private readonly histSeconds = new Float64Array(HISTOGRAM_SECONDS);
  private readonly histCounts = new Uint32Array(HISTOGRAM_SECONDS);
  private readonly hanging = new Set<http.ServerResponse>();
  private server: http.Server | undefined;

  constructor(options: {
    fleet: FleetState;
    credentials: SimulatorCredential[];
    faults?: FaultSpec;
    qpsLimits?: Record<string, number>;
    requestLogSize?: number;
    nonceCacheSize?: number;
  }) {
    this.fleet = options.fleet;
    this.faults = new FaultEngine(options.faults, options.qpsLimits);
    for (const c of options.credentials) this.addCredential(c);
    this.log = new Array<RequestLogEntry | undefined>(Math.max(1, options.requestLogSize ?? 1000));
    this.maxNonces = options.nonceCacheSize ?? 200_000;
  }

  addCredential(c: SimulatorCredential): void {
    this.credentials.put(c);
  }

  /** Sets or removes (undefined) the RAM policy of an AccessKey. */
  setPolicy(accessKeyId: string, policy: RamPolicy | undefined): void {
    this.credentials.setPolicy(accessKeyId, policy);
  }

  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => this.onRequest(req, res));
    // Longer than any client's idle keep-alive, so a client never reuses a socket we just closed.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  // ---- in-process inspection ------------------------------------------------------------

  /** Every device, settled to now: the rows of GET /_admin/devices. */
  devices(): DeviceRow[] {
    const now = Date.now();
    const rows: DeviceRow[] = [];
    for (const inst of this.fleet.instances.values()) {
      inst.settle(now);
      for (const d of inst.devices) rows.push(deviceRow(inst, d, now));
    }
    return rows;
  }

  /** The request log, oldest first (at most `limit` newest entries). */
  requests(limit?: number): RequestLogEntry[] {
    const size = this.log.length;
    const n = Math.min(this.logCount, limit ?? size);
    const out: RequestLogEntry[] = [];
    for (let i = n; i > 0; i--) {
      const e = this.log[(this.logNext - i + size) % size];
      if (e) out.push(e);
    }
    return out;
  }

  stats(): SimulatorStats {
    const perSecond: { second: number; count: number }[] = [];
    const nowSec = Math.floor(Date.now() / 1000);
    let peak = 0;
    for (let i = 0; i < HISTOGRAM_SECONDS; i++) {
      const s = this.histSeconds[i]!;
      if (s > 0 && s > nowSec - HISTOGRAM_SECONDS) {
        const count = this.histCounts[i]!;
        perSecond.push({ second: s, count });
        if (count > peak) peak = count;
      }
    }
    perSecond.sort((a, b) => a.second - b.second);
    return {
      totalRequests: this.total,
      byAction: Object.fromEntries(this.byAction),
      byCode: Object.fromEntries(this.byCode),
      byStatus: Object.fromEntries(this.byStatus),
      perSecond,
      peakPerSecond: peak,
    };
  }

  resetStats(): void {
    this.total = 0;
    this.byAction.clear();
    this.byCode.clear();
    this.byStatus.clear();
    this.histSeconds.fill(0);
    this.histCounts.fill(0);
    this.log.fill(undefined);
    this.logNext = 0;
    this.logCount = 0;
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.socket.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const raw = chunks.length ? Buffer.concat(chunks) : Buffer.alloc(0);
      const url = req.url ?? '/';
      if (url.startsWith('/_admin/') || url === '/_admin') {
        this.onAdmin(req, res, url, raw.toString('utf8'));
        return;
      }
      this.onRpc(req, res, url, raw, started).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) this.sendJson(res, 500, { Message: String(e) });
      });
    });
  }

  private sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json;charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private count(action: string | undefined, nowMs: number): void {
    this.total++;
    const a = action ?? '(none)';
    this.byAction.set(a, (this.byAction.get(a) ?? 0) + 1);
    const sec = Math.floor(nowMs / 1000);
    const slot = sec % HISTOGRAM_SECONDS;
    if (this.histSeconds[slot] !== sec) {
      this.histSeconds[slot] = sec;
      this.histCounts[slot] = 0;
    }
    this.histCounts[slot]!++;
  }

  private record(entry: RequestLogEntry): void {
    this.log[this.logNext] = entry;
    this.logNext = (this.logNext + 1) % this.log.length;
    if (this.logCount < this.log.length) this.logCount++;
    if (entry.code) this.byCode.set(entry.code, (this.byCode.get(entry.code) ?? 0) + 1);
    const status = String(entry.httpStatus);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  private async onRpc(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: string,
    raw: Buffer,
    started: number,
  ): Promise<void> {
    const request = parseRequest(req, url, raw);
    const { method, params } = request;
    const nowMs = Date.now();
    this.count(params.Action, nowMs);
    const requestId = randomUUID().toUpperCase();
    let status = 200;
    let code: string | undefined;
    let fault: string | undefined;
    // hang-after / drop-after / after-error: the request is processed in full, then its answer
    // is lost or replaced.
    let after: AfterKind | undefined;
    let replacement: ReplacementAnswer | undefined;
    let replaced: RequestLogEntry['replaced'];
    const reply = (httpStatus: number, payload: unknown) => {
      if (res.destroyed) return;
      if (after === 'drop-after') req.socket.destroy();
      else if (after === 'hang-after') this.hang(res);
      else if (replacement) {
        replaced = { httpStatus, ...(code ? { code } : {}) };
        status = replacement.httpStatus;
        code = replacement.format === 'json' ? replacement.code : undefined;
        this.sendAnswer(res, replacement, requestId, params.RegionId);
      } else this.sendJson(res, httpStatus, payload);
    };
    const finish = () => {
      const logged: Record<string, string> = {};
      for (const k in params) if (k !== 'Signature' && k !== 'SecurityToken') logged[k] = params[k]!;
      this.record({
        time: new Date(nowMs).toISOString(),
        method,
        signature: request.signature,
        action: params.Action,
        accessKeyId: request.accessKeyId,
        smartAgId: params.SmartAGId,
        serialNumber: params.SerialNumber ?? params.SmartAGSn,
        params: logged,
        httpStatus: status,
        ...(code ? { code } : {}),
        requestId,
        ...(fault ? { fault } : {}),
        ...(replaced ? { replaced } : {}),
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    };
    try {
      const key = this.authenticate(request, nowMs);
      assertKeyUsable(key);
      const action = params.Action!;
      if (this.faults.throttled(action, nowMs)) throw rpcError('Throttling.User');
      const decision = this.faults.decide(action, params.SmartAGId, params.SerialNumber ?? params.SmartAGSn);
      if (decision) {
        fault = decision.kind;
        if (decision.kind === 'hang-after' || decision.kind === 'drop-after') after = decision.kind;
        if (decision.kind === 'after-error') [after, replacement] = [decision.kind, decision.answer];
        const handled = await this.applyTransportFault(decision, req, res, requestId, params.RegionId);
        if (handled !== undefined) {
          status = handled;
          finish();
          return;
        }
        if (decision.kind === 'error' && decision.answer.format === 'json') {
          const a = decision.answer;
          throw new RpcError(a.code, a.httpStatus, a.message);
        }
      }
      const def = ACTIONS[action]!;
      for (const name of def.required) if (!params[name]) throw missingParameter(name);
      if (key.policy) {
        const resource = resourceFor(action, key.accountId, params.RegionId, params.SmartAGId);
        if (!key.policy.allows(action, resource)) throw rpcError('Forbidden.RAM');
      }
      const now = Date.now();
      const result = def.handle(params, {
        fleet: this.fleet,
        now,
        accountId: key.accountId,
        onUpgradeAccepted: (a) =>
          this.upgrades.record({
            time: new Date(now).toISOString(),
            requestId,
            accessKeyId: request.accessKeyId!,
            RegionId: a.instance.regionId,
            SmartAGId: a.instance.smartAgId,
            SerialNumber: a.device.serialNumber,
            VersionCode: a.versionCode,
            VersionType: a.versionType,
            started: a.started,
            ...(after ? { fault: after } : {}),
          }),
      });
      result.RequestId = requestId;
      reply(200, result);
    } catch (e) {
      const err = e instanceof RpcError ? e : rpcError('InternalError');
      status = err.status;
      code = err.code;
      reply(err.status, errorBody(err.code, err.message, requestId, params.RegionId));
    }
    finish();
  }

  /** Applies html/hang/drop/latency and non-JSON errors; returns the status it answered with, or undefined to go on. */
  private async applyTransportFault(
    d: FaultDecision,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    requestId: string,
    regionId: string | undefined,
  ): Promise<number | undefined> {
    switch (d.kind) {
      case 'html':
        this.sendAnswer(res, { format: 'html', httpStatus: d.httpStatus }, requestId, regionId);
        return d.httpStatus;
      case 'error':
        if (d.answer.format === 'json') return undefined;
        this.sendAnswer(res, d.answer, requestId, regionId);
        return d.answer.httpStatus;
      case 'hang':
        this.hang(res);
        return 0;
      case 'drop':
        req.socket.destroy();
        return 0;
      case 'latency':
        await new Promise((r) => setTimeout(r, d.latencyMs));
        return undefined;
      case 'hang-after':
      case 'drop-after':
      case 'after-error':
        return undefined;
    }
  }

  /** Sends an answer that a fault rule chose instead of the simulator's own. */
  private sendAnswer(
    res: http.ServerResponse,
    a: ReplacementAnswer,
    requestId: string,
    regionId: string | undefined,
  ): void {
    if (a.format === 'json')
      return this.sendJson(res, a.httpStatus, errorBody(a.code, a.message, requestId, regionId));
    const text = a.format === 'html' ? htmlErrorPage(a.httpStatus) : a.body;
    const type = a.format === 'html' ? 'text/html' : 'text/plain;charset=utf-8';
    res.writeHead(a.httpStatus, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Keeps a response open without answering, until the client gives up or the simulator stops. */
  private hang(res: http.ServerResponse): void {
    this.hanging.add(res);
    res.on('close', () => this.hanging.delete(res));
  }

  /**
   * The protocol checks, in the order a request meets them: what both signatures share (method,
   * version, action), then the scheme's own. Returns the caller's key.
   */
  private authenticate(request: RpcRequest, nowMs: number): KeyState {
    const { method, params, v3 } = request;
    if (method !== 'GET' && method !== 'POST') throw rpcError('UnsupportedHTTPMethod');
    if (!params.Version) throw missingParameter('Version', v3 ? 'x-acs-version' : 'Version');
    if (params.Version !== API_VERSION) throw rpcError('InvalidVersion');
    if (!params.Action) throw missingParameter('Action', v3 ? 'x-acs-action' : 'Action');
    if (!Object.hasOwn(ACTIONS, params.Action)) throw rpcError('InvalidApi.NotFound');
    return v3 ? this.authenticateV3(request, v3, nowMs) : this.authenticateV2(method, params, nowMs);
  }

  /** Signature V2: the HMAC-SHA1 `Signature` parameter over every other parameter. */
  private authenticateV2(method: string, params: Record<string, string>, nowMs: number): KeyState {
    // The action comes from the Action parameter only; pop-core's x-acs-action header is not trusted.
    for (const name of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'Timestamp']) {
      if (!params[name]) throw missingParameter(name);
    }
    if (params.SignatureMethod !== 'HMAC-SHA1') throw rpcError('InvalidSignatureMethod');
    if (params.SignatureVersion !== undefined && params.SignatureVersion !== '1.0')
      throw rpcError('InvalidSignatureVersion');
    checkTimestamp(params.Timestamp!, nowMs);
    const key = this.keyOf(params.AccessKeyId!);
    checkSecurityToken(key, params.SecurityToken, 'SecurityToken');
    const expected = signRpc(params, method, key.secret);
    if (!signaturesMatch(params.Signature!, expected)) {
      throw rpcError('SignatureDoesNotMatch', {
        message: `Specified signature is not matched with our calculation. server string to sign is:${stringToSign(params, method)}`,
      });
    }
    this.useNonce(`${params.AccessKeyId}\n${params.SignatureNonce}`, nowMs);
    return key;
  }

  /**
   * Signature V3: the `Authorization` header (ACS3-HMAC-SHA256) over the canonical request.
   * `x-acs-date` is held to the rules of `Timestamp`, `x-acs-signature-nonce` to those of
   * `SignatureNonce` (the same cache), `x-acs-security-token` to those of `SecurityToken`.
   */
  private authenticateV3(request: RpcRequest, v3: V3Parts, nowMs: number): KeyState {
    const { headers } = v3;
    const auth = v3.authorization;
    if (auth === undefined) throw missingParameter('Authorization');
    if (auth === null) throw rpcError('IncompleteSignature');
    if (auth.algorithm !== ACS3_HMAC_SHA256) throw rpcError('InvalidSignatureMethod');
    const nonce = single(headers['x-acs-signature-nonce']);
    if (!nonce) throw missingParameter('SignatureNonce', 'x-acs-signature-nonce');
    const date = single(headers['x-acs-date']);
    if (!date) throw missingParameter('Timestamp', 'x-acs-date');
    checkTimestamp(date, nowMs);
    const contentSha256 = single(headers['x-acs-content-sha256']);
    if (!contentSha256) throw rpcError('IncompleteSignature');
    const key = this.keyOf(auth.credential);
    checkSecurityToken(key, single(headers['x-acs-security-token']), 'x-acs-security-token');
    // Every header of the documented set that the request carries must be signed.
    const signed = new Set(auth.signedHeaders);
    for (const name of REQUIRED_SIGNED_HEADERS) if (!signed.has(name)) throw rpcError('IncompleteSignature');
    for (const name of Object.keys(headers))
      if (mustSign(name) && !signed.has(name)) throw rpcError('IncompleteSignature');
    const hashedPayload = sha256Hex(v3.body);
    if (contentSha256 !== hashedPayload) {
      throw rpcError('SignatureDoesNotMatch', {
        message: `Specified signature does not match our calculation. x-acs-content-sha256 is not the SHA-256 of the request body; server HashedRequestPayload is [${hashedPayload}]`,
      });
    }
    const canonical = canonicalRequest({
      method: request.method,
      path: v3.path,
      query: v3.query,
      headers,
      signedHeaders: auth.signedHeaders,
      hashedPayload,
    });
    const toSign = stringToSignV3(canonical);
    if (!signaturesMatch(auth.signature, signV3(toSign, key.secret))) {
      // As Alibaba does, the answer shows the server's side of the computation.
      throw rpcError('SignatureDoesNotMatch', {
        message: `Specified signature does not match our calculation. server StringToSign is [${toSign}] server CanonicalRequest is [${canonical}]`,
      });
    }
    if (v3.badBody) throw rpcError('InvalidParameter.Format');
    this.useNonce(`${auth.credential}\n${nonce}`, nowMs);
    return key;
  }

  private keyOf(accessKeyId: string): KeyState {
    const key = this.keys.get(accessKeyId);
    if (!key) throw rpcError('InvalidAccessKeyId.NotFound');
    return key;
  }

  /** Bounded nonce cache: entries expire after the timestamp window; the oldest go first when full. */
  private useNonce(nonce: string, nowMs: number): void {
    for (const [n, expiry] of this.nonces) {
      if (expiry > nowMs && this.nonces.size < this.maxNonces) break;
      this.nonces.delete(n);
    }
    const seen = this.nonces.get(nonce);
    if (seen !== undefined && seen > nowMs) throw rpcError('SignatureNonceUsed');
    this.nonces.set(nonce, nowMs + TIMESTAMP_WINDOW_MS);
  }

  // ---- admin ------------------------------------------------------------------------------

  private onAdmin(req: http.IncomingMessage, res: http.ServerResponse, url: string, body: string): void {
    const method = req.method ?? 'GET';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
    try {
      const json = (): unknown => (body ? JSON.parse(body) : {});
      if (method === 'GET' && path === '/_admin/devices') return this.sendJson(res, 200, this.devices());
      if (method === 'GET' && path === '/_admin/requests') {
        const limit = query.get('limit');
        return this.sendJson(res, 200, this.requests(limit ? Number(limit) : undefined));
      }
      if (method === 'GET' && path === '/_admin/stats') return this.sendJson(res, 200, this.stats());
      if (method === 'POST' && path === '/_admin/stats/reset') {
        this.resetStats();
        return this.sendJson(res, 200, { ok: true });
      }
      if (method === 'GET' && path === '/_admin/faults')
        return this.sendJson(res, 200, this.faults.describe());
      if (method === 'POST' && path === '/_admin/faults') {
        const spec = json();
        if (query.get('append') === '1' || query.get('append') === 'true') {
          this.faults.add((spec as { rules?: FaultRule[] }).rules ?? []);
        } else {
          this.faults.set(spec as FaultSpec);
        }
        return this.sendJson(res, 200, this.faults.describe());
      }
      const dev = /^\/_admin\/devices\/([^/]+)$/.exec(path);
      if (dev && method === 'POST') {
        const sn = decodeURIComponent(dev[1]!);
        const found = this.findDevice(sn);
        if (!found) return this.sendJson(res, 404, { error: `no device ${sn}` });
        patchDevice(found[0], found[1], json() as Record<string, unknown>);
        return this.sendJson(res, 200, deviceRow(found[0], found[1], Date.now()));
      }
      if (path === '/_admin/upgrades' || path.startsWith('/_admin/credentials')) {
        if (this.onLedgerOrCredentials(method, path, query, json, res)) return;
      }
      const pol = /^\/_admin\/policies\/([^/]+)$/.exec(path);
      if (pol && (method === 'PUT' || method === 'POST' || method === 'DELETE')) {
        const ak = decodeURIComponent(pol[1]!);
        this.setPolicy(ak, method === 'DELETE' ? undefined : (json() as RamPolicy));
        return this.sendJson(res, 200, { ok: true });
      }
      return this.sendJson(res, 404, { error: `no admin route ${method} ${path}` });
    } catch (e) {
      return this.sendJson(res, e instanceof CredentialError ? e.status : 400, {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** GET /_admin/upgrades and the /_admin/credentials routes; false when none matches. */
  private onLedgerOrCredentials(
    method: string,
    path: string,
    query: URLSearchParams,
    json: () => unknown,
    res: http.ServerResponse,
  ): boolean {
    if (method === 'GET' && path === '/_admin/upgrades') {
      const filter: UpgradeFilter = {};
      for (const k of ['smartAgId', 'serialNumber', 'versionCode'] as const) {
        const v = query.get(k);
        if (v !== null) filter[k] = v;
      }
      const limit = query.get('limit');
      if (limit !== null) filter.limit = Number(limit);
      this.sendJson(res, 200, this.upgrades.list(filter) satisfies AcceptedUpgrade[]);
      return true;
    }
    if (path === '/_admin/credentials') {
      if (method === 'GET') this.sendJson(res, 200, this.credentials.list());
      else if (method === 'POST') this.sendJson(res, 200, this.credentials.add(json()));
      else return false;
      return true;
    }
    const m = /^\/_admin\/credentials\/([^/]+)$/.exec(path);
    if (!m) return false;
    const id = decodeURIComponent(m[1]!);
    if (method === 'GET') this.sendJson(res, 200, this.credentials.row(id));
    else if (method === 'POST') this.sendJson(res, 200, this.credentials.update(id, json()));
    else if (method === 'DELETE') {
      this.credentials.remove(id);
      this.sendJson(res, 200, { ok: true });
    } else return false;
    return true;
  }

  private findDevice(sn: string): [SimInstance, SimDevice] | undefined {
    for (const inst of this.fleet.instances.values()) {
      const d = inst.device(sn);
      if (d) return [inst.settle(Date.now()), d];
    }
    return undefined;
  }
}

/**
 * Reads an RPC request into the shape the checks use. Never throws: what cannot be read is left
 * for the checks to refuse with the right code.
 */
function parseRequest(req: http.IncomingMessage, url: string, raw: Buffer): RpcRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  const q = url.indexOf('?');
  const query: [string, string][] = q >= 0 ? [...new URLSearchParams(url.slice(q + 1))] : [];
  const params: Record<string, string> = {};
  for (const [k, v] of query) params[k] = v;
  if (!isV3Request(req.headers, params)) {
    // Signature checks cover query and form parameters together, as Alibaba's gateway does.
    if (raw.length > 0 && method === 'POST')
      for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) params[k] = v;
    return { method, params, accessKeyId: params.AccessKeyId, signature: 'HMAC-SHA1' };
  }
  let badBody = false;
  if (raw.length > 0 && method === 'POST') {
    try {
      Object.assign(params, bodyParameters(single(req.headers['content-type']), raw.toString('utf8')));
    } catch {
      badBody = true;
    }
  }
  // V3 names the action and the version in headers only.
  delete params.Action;
  delete params.Version;
  const action = single(req.headers['x-acs-action']);
  const version = single(req.headers['x-acs-version']);
  if (action) params.Action = action;
  if (version) params.Version = version;
  const header = single(req.headers.authorization);
  const authorization = header === undefined ? undefined : (parseAuthorization(header) ?? null);
  return {
    method,
    params,
    accessKeyId: authorization?.credential,
    signature: 'ACS3-HMAC-SHA256',
    v3: {
      headers: req.headers,
      path: q >= 0 ? url.slice(0, q) : url,
      query,
      body: raw,
      authorization,
      badBody,
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Timestamp` (V2) or `x-acs-date` (V3): `YYYY-MM-DDThh:mm:ssZ`, within 15 minutes of now. */
function checkTimestamp(value: string, nowMs: number): void {
  const m = TIMESTAMP_RE.exec(value);
  const ts = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  if (!m || Number.isNaN(ts) || new Date(ts).toISOString().slice(0, 19) + 'Z' !== value) {
    throw rpcError('InvalidTimeStamp.Format');
  }
  if (Math.abs(nowMs - ts) > TIMESTAMP_WINDOW_MS) throw rpcError('InvalidTimeStamp.Expired');
}

/** An STS key needs its token (`SecurityToken` in V2, `x-acs-security-token` in V3). */
function checkSecurityToken(key: KeyState, presented: string | undefined, shownAs: string): void {
  if (key.securityToken === undefined) return;
  if (!presented) throw missingParameter('SecurityToken', shownAs);
  if (presented !== key.securityToken) throw rpcError('InvalidSecurityToken.MismatchWithAccessKey');
}

function deviceRow(inst: SimInstance, d: SimDevice, now: number): DeviceRow {
  const row: DeviceRow = {
    SmartAGId: inst.smartAgId,
    RegionId: inst.regionId,
    SerialNumber: d.serialNumber,
    HardwareVersion: inst.hardwareVersion,
    Status: inst.statusAt(now),
    HaState: d.haState,
    HcState: d.hcStateAt(now),
    SoftwareVersion: d.softwareVersion,
    DpiSignatureDbVersion: d.dpiSignatureDbVersion,
    StartupTime: d.startupTimeString(),
    upgradeCalls: d.upgradeCalls,
    upgradeCallsByVersion: { ...d.upgradeCallsByVersion },
    autoUpgrades: d.autoUpgrades,
    health: {
      linkDown: d.health.linkDown,
      controllerLost: d.health.controllerLostAt !== undefined && d.health.controllerLostAt <= now,
      failingDiagnosis: [...d.health.failingDiagnosis],
    },
  };
  const op = d.operation;
  if (op) {
    row.upgrading = {
      versionType: op.versionType,
      ...(op.target ? { target: op.target } : {}),
      phase: op.kind === 'reboot' ? 'rebooting' : now < op.offlineAt ? 'downloading' : 'flashing',
      auto: op.auto,
    };
  }
  return row;
}

/** Admin patch of one device: `HcState`, `SoftwareVersion`, `DpiSignatureDbVersion`, and simulation knobs. */
function patchDevice(inst: SimInstance, d: SimDevice, patch: Record<string, unknown>): void {
  const str = (k: string) => (typeof patch[k] === 'string' ? patch[k] : undefined);
  const hc = str('HcState');
  if (hc !== undefined) {
    if (hc !== 'online' && hc !== 'offline' && hc !== 'unknown')
      throw new Error('HcState: expected online, offline or unknown');
    d.hcState = hc;
    d.flapSince = undefined;
  }
  const sv = str('SoftwareVersion');
  if (sv !== undefined) d.softwareVersion = sv;
  const dpi = str('DpiSignatureDbVersion');
  if (dpi !== undefined) d.dpiSignatureDbVersion = dpi;
  const st = str('Status');
  if (st !== undefined) inst.status = st;
  for (const k of [
    'downloadSeconds',
    'upgradeSeconds',
    'dpiUpgradeSeconds',
    'rebootSeconds',
    'flapSeconds',
  ] as const) {
    if (typeof patch[k] === 'number') d.simulation[k] = patch[k];
  }
  const outcome = str('outcome');
  if (outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(outcome))
      throw new Error(`outcome: expected ${OUTCOMES.join(', ')}`);
    d.simulation.outcome = outcome as SimDevice['simulation']['outcome'];
  }
  if (typeof patch.allowDowngrade === 'boolean') d.simulation.allowDowngrade = patch.allowDowngrade;
  // The branch's health, now: a link that fails or recovers, a controller connection, diagnosis items.
  if (typeof patch.linkDown === 'boolean') d.health.linkDown = patch.linkDown;
  if (typeof patch.controllerLost === 'boolean')
    d.health.controllerLostAt = patch.controllerLost ? Date.now() : undefined;
  if (Array.isArray(patch.failingDiagnosis)) {
    if (!patch.failingDiagnosis.every((x) => typeof x === 'string'))
      throw new Error('failingDiagnosis: expected a list of diagnosis item names');
    d.health.failingDiagnosis = [...patch.failingDiagnosis];
  }
}

/** Alibaba's error body: the same five fields for every code. */
function errorBody(
  code: string,
  message: string,
  requestId: string,
  regionId: string | undefined,
): Record<string, string> {
  return {
    RequestId: requestId,
    HostId: `smartag.${regionId || 'cn-shanghai'}.aliyuncs.com`,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Smartag&requestId=${requestId}`,
  };
}
