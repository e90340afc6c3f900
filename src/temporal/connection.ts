import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_TASK_QUEUE = 'sag-rollout';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

/**
 * The Temporal server to use, from Temporal's own environment configuration: `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, or a profile (`TEMPORAL_PROFILE`,
 * `TEMPORAL_CONFIG_FILE`). Explicit values win. Default: `localhost:7233`, namespace `default`.
 */
export function temporalTarget(
  env: NodeJS.ProcessEnv = process.env,
  explicit: { address?: string; namespace?: string } = {},
): TemporalTarget {
  const vars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const cfg = loadClientConnectConfig({ overrideEnvVars: vars });
  const connectionOptions = { ...cfg.connectionOptions };
  if (explicit.address) connectionOptions.address = explicit.address;
  connectionOptions.address ??= 'localhost:7233';
  return { connectionOptions, namespace: explicit.namespace ?? cfg.namespace ?? 'default' };
}

/**
 * The largest gRPC message a client accepts. A page of a large rollout's history (part results of
 * 1,000 devices each) is over gRPC's default of 4 MiB; Temporal pages by event count, not size.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 128 * 1024 * 1024;

/** A client connection to the target (the worker's native options, as the client takes them). */
export async function connectTemporal(target: TemporalTarget): Promise<Connection> {
  const { address, tls, apiKey, metadata } = target.connectionOptions;
  return Connection.connect({
    address,
    tls,
    apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    metadata,
    channelArgs: { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES },
  });
}

/** A workflow client for the CLI and dashboard. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  return new Client({ connection: await connectTemporal(target), namespace: target.namespace });
}
