/**
 * The V2 transport: `@alicloud/pop-core` signs every call with the RPC HMAC-SHA1 signature. Calls
 * are POSTed: pop-core's GET errors carry the signed URL.
 */
import RPCClient from '@alicloud/pop-core';
import { ShapeError, field } from './internal/parse';
import { SMARTAG_API_VERSION, type SagCredentialsProvider, type SagTransport } from './transport';

/** One pop-core `RPCClient` per endpoint, each asking `credentials` for keys on every call. */
export function createPopCoreTransport(credentials: SagCredentialsProvider): SagTransport {
  const clients = new Map<string, RPCClient>();
  function rpcFor(endpoint: string): RPCClient {
    let rpc = clients.get(endpoint);
    if (rpc === undefined) {
      // pop-core 1.8.0 accepts `credentialsProvider` (and the `verbose` flag that also returns
      // the HTTP exchange) although its typings list neither.
      const config = {
        endpoint,
        apiVersion: SMARTAG_API_VERSION,
        credentialsProvider: credentials,
      } as unknown as RPCClient.Config;
      const Ctor = RPCClient as unknown as new (config: RPCClient.Config, verbose: boolean) => RPCClient;
      rpc = new Ctor(config, true);
      clients.set(endpoint, rpc);
    }
    return rpc;
  }

  return {
    signature: 'v2',
    async call(endpoint, action, params, timeoutMs) {
      let result: unknown;
      try {
        result = await rpcFor(endpoint).request<unknown>(action, params, {
          method: 'POST',
          timeout: timeoutMs,
          formatAction: false,
          formatParams: false,
        });
      } catch (err) {
        // pop-core reads `json.Code` without a check: a `null` body fails there with a TypeError.
        if (err instanceof TypeError && /reading 'Code'/.test(err.message))
          throw new ShapeError('response body is not a JSON object');
        throw err;
      }
      const [body, entry] = Array.isArray(result) ? (result as [unknown, unknown]) : [result, undefined];
      const status = field(field(entry, 'response'), 'statusCode');
      return { body, httpStatus: typeof status === 'number' ? status : undefined };
    },
  };
}
