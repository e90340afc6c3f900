/**
 * The error codes the simulator can return, with the HTTP status and message Alibaba documents
 * (the UpdateSmartAccessGatewayVersion API page and the common gateway error tables).
 */

export interface ErrorDefinition {
  status: number;
  message: string;
}

/** Codes of `UpdateSmartAccessGatewayVersion`, exactly as its API page lists them. */
export const UPGRADE_ERRORS = {
  Forbidden: { status: 403, message: 'User not authorized to operate on the specified resource.' },
  'InvalidId.SMARTAG': { status: 403, message: 'The specified smart access gateway instance id is invalid.' },
  NotBoundCCN: {
    status: 403,
    message: 'The specified smart access gateway has not bound CCN; please bind CCN first.',
  },
  SmartAccessGatewayNotOnline: { status: 403, message: 'The specified smart access gateway is not online.' },
  GetSmartAccessGatewayVersionError: {
    status: 403,
    message: 'An error occurred while obtaining the smart access gateway version.',
  },
  GetSmartAccessGatewayStateError: {
    status: 403,
    message: 'An error occurred while obtaining the smart access gateway status.',
  },
  VersionTooOld: {
    status: 403,
    message: 'The specified version is outdated; please select a newer version.',
  },
  SmartAccessGatewayInArrears: { status: 500, message: 'The specified Smart Access Gateway has expired.' },
  SmartAccessGatewayNotActivated: {
    status: 500,
    message: 'The specified Smart Access Gateway has not been activated.',
  },
  PermissionError: { status: 500, message: 'No permission to operate the instance.' },
} as const satisfies Record<string, ErrorDefinition>;

export type UpgradeErrorCode = keyof typeof UPGRADE_ERRORS;

/** Gateway (protocol) and other product codes. */
export const COMMON_ERRORS = {
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidAccessKeyId.Inactive': { status: 400, message: 'Specified access key is disabled.' },
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  IncompleteSignature: {
    status: 400,
    message: 'The request signature does not conform to Aliyun standards.',
  },
  InvalidSignatureMethod: { status: 400, message: 'Specified signature method is not valid.' },
  InvalidSignatureVersion: { status: 400, message: 'Specified signature version is not valid.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': {
    status: 400,
    message: 'Specified time stamp or date value is not well formatted.',
  },
  'InvalidApi.NotFound': {
    status: 404,
    message: 'Specified api is not found, please check your url and method.',
  },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  UnsupportedHTTPMethod: { status: 400, message: 'This http method is not supported.' },
  'InvalidParameter.Format': { status: 400, message: 'Specified parameter format is not valid.' },
  'InvalidSecurityToken.MismatchWithAccessKey': {
    status: 400,
    message: 'Specified SecurityToken mismatch with the AccessKey.',
  },
  'InvalidSecurityToken.Malformed': { status: 400, message: 'Specified SecurityToken is malformed.' },
  // 400 as in the gateway tables that list the InvalidSecurityToken.* codes together; some product
  // API pages list this code with 403.
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'Throttling.Api': { status: 400, message: 'Request was denied due to api flow control.' },
  'Forbidden.RAM': {
    status: 403,
    message: "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
  },
  InternalError: {
    status: 500,
    message: 'The request processing has failed due to some unknown error, exception or failure.',
  },
  UnknownError: {
    status: 500,
    message: 'The request processing has failed due to some unknown error, exception or failure.',
  },
  ServiceUnavailable: {
    status: 503,
    message: 'The request has failed due to a temporary failure of the server.',
  },
  VersionNotExist: { status: 400, message: 'The specified version does not exist.' },
  'SAG.InstanceNoFound': { status: 400, message: 'The specified SAG instance does not exist.' },
  'SAG.SoftwareNotSupport': {
    status: 400,
    message: 'The specified SAG instance is a software edition and does not support this operation.',
  },
  'SAG.InvalidSerialNumber': { status: 400, message: 'The specified SerialNumber is invalid.' },
  'SAG.InstanceIdEmpty': { status: 400, message: 'You must specify the SAG instance ID.' },
} as const satisfies Record<string, ErrorDefinition>;

const CATALOGUE: Record<string, ErrorDefinition> = { ...UPGRADE_ERRORS, ...COMMON_ERRORS };

/** An RPC-level failure: becomes an Alibaba error body with its HTTP status. */
export class RpcError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.status = status;
  }
}

/** Looks up a code; unknown codes get 400 and a generic message unless given. */
export function errorDefinition(code: string): ErrorDefinition | undefined {
  return CATALOGUE[code];
}

/** Builds the error for a known code (or a custom one with explicit status and message). */
export function rpcError(code: string, overrides: { status?: number; message?: string } = {}): RpcError {
  const def = CATALOGUE[code];
  return new RpcError(
    code,
    overrides.status ?? def?.status ?? 400,
    overrides.message ?? def?.message ?? `The request failed with ${code}.`,
  );
}

/**
 * `Missing{Name}`: a required parameter is absent. `shownAs` names it in the message when the
 * request carries it elsewhere (a V3 header such as `x-acs-date` for `Timestamp`).
 */
export function missingParameter(name: string, shownAs: string = name): RpcError {
  return new RpcError(`Missing${name}`, 400, `${shownAs} is mandatory for this action.`);
}

/** `Invalid{Name}`: a parameter has a value the action does not accept. */
export function invalidParameter(name: string): RpcError {
  return new RpcError(`Invalid${name}`, 400, `Specified parameter ${name} is not valid.`);
}

/** Every code the catalogue knows, for validation of fault specs. */
export function knownCodes(): string[] {
  return Object.keys(CATALOGUE);
}
