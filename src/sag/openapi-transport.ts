/**
 * The V3 transport: Alibaba's current OpenAPI core, `@alicloud/openapi-client`, calling smartag
 * the way its generated clients do (`callApi`, RPC style, POST, form body, JSON answer) and
 * signing with V3, `ACS3-HMAC-SHA256` in the `Authorization` header. Nothing secret travels in
 * the URL: the parameters are in the body, the signature and any STS token in headers.
 */
import Credential from '@alicloud/credentials';
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import { ShapeError } from './internal/parse';
import { SMARTAG_API_VERSION, type SagCredentialsProvider, type SagTransport } from './transport';

const SIGNATURE_ALGORITHM = 'ACS3-HMAC-SHA256';
/** Sent by openapi-client as `x-acs-credentials-provider`: a name, never a value. */
const PROVIDER_NAME = 'sag-rollout';

/**
 * One openapi-client `Client` per endpoint. They share one `@alicloud/credentials` client over
 * `credentials`, which openapi-client asks for keys on every call, so rotating STS keys are
 * picked up.
 */
export function createOpenApiTransport(credentials: SagCredentialsProvider): SagTransport {
  const credential = new Credential(null, {
    getProviderName: () => PROVIDER_NAME,
    getCredentials: async () => ({ ...(await credentials.getCredentials()), providerName: PROVIDER_NAME }),
  });
  const clients = new Map<string, { client: OpenApiClient; protocol: string }>();
  function clientFor(endpoint: string): { client: OpenApiClient; protocol: string } {
    let entry = clients.get(endpoint);
    if (entry === undefined) {
      const url = new URL(endpoint);
      const protocol = url.protocol === 'http:' ? 'HTTP' : 'HTTPS';
      const config = new Config({
        credential,
        endpoint: url.host,
        protocol,
        signatureAlgorithm: SIGNATURE_ALGORITHM,
      });
      entry = { client: new OpenApiClient(config), protocol };
      clients.set(endpoint, entry);
    }
    return entry;
  }

  return {
    signature: 'v3',
    async call(endpoint, action, params, timeoutMs) {
      const { client, protocol } = clientFor(endpoint);
      const api = new Params({
        action,
        version: SMARTAG_API_VERSION,
        protocol,
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      // No retries here: the client's caller decides what may be sent again (an upgrade never is).
      const runtime = new RuntimeOptions({
        autoretry: false,
        readTimeout: timeoutMs,
        connectTimeout: timeoutMs,
      });
      let response: { statusCode?: number; body?: unknown };
      try {
        response = await client.callApi(api, new OpenApiRequest({ body: params }), runtime);
      } catch (err) {
        // tea-util refuses a JSON answer that is not an object with this plain Error.
        if (err instanceof Error && err.message === 'The value is not a object')
          throw new ShapeError('response body is not a JSON object');
        throw err;
      }
      return { body: response.body, httpStatus: response.statusCode };
    },
  };
}
