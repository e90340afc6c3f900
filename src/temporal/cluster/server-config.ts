import net from 'node:net';
import { stringify } from 'yaml';
import type { TlsMaterial } from './certificates';

/**
 * The persistence schema stores cluster-membership ports as SMALLINT, so every port the server
 * announces must be below 32768 (ports the kernel hands out for port 0 are above it).
 */
const PORT_RANGE = { min: 20_000, max: 32_767 };

/** Whether `port` can be bound on 127.0.0.1 now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * `count` distinct free ports between 20000 and 32767, as consecutive as available (a block
 * starting at a random offset, so parallel runs rarely collide).
 */
export async function lowPorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = PORT_RANGE.min + Math.floor(Math.random() * (PORT_RANGE.max - PORT_RANGE.min - count - 1));
    const ports = Array.from({ length: count }, (_, i) => start + i);
    const free = await Promise.all(ports.map(bindable));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`no block of ${count} free ports between ${PORT_RANGE.min} and ${PORT_RANGE.max}`);
}

export interface ServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

export interface ClusterPorts {
  frontend: Required<ServicePorts>;
  history: ServicePorts;
  matching: ServicePorts;
  worker: ServicePorts;
}

/** Picks the server's nine ports (gRPC and membership per service, the frontend's HTTP API). */
export async function pickClusterPorts(): Promise<ClusterPorts> {
  const p = await lowPorts(9);
  const at = (i: number) => p[i]!;
  return {
    frontend: { grpc: at(0), membership: at(1), http: at(2) },
    history: { grpc: at(3), membership: at(4) },
    matching: { grpc: at(5), membership: at(6) },
    worker: { grpc: at(7), membership: at(8) },
  };
}

export interface ServerConfigInput {
  ports: ClusterPorts;
  numHistoryShards: number;
  postgres: { host: string; port: number; user: string; password: string };
  /** Databases of the persistence and visibility stores. */
  databases: { persistence: string; visibility: string };
  /** TLS on the frontend (mutual: clients present a certificate of the run's CA); none when undefined. */
  tls?: TlsMaterial;
  dynamicConfigFile: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

type Scalar = string | number | boolean;

/** A dynamic config value: one for everything, or values by constraint (e.g. `{ namespace }`), first match wins. */
export type DynamicConfigValue = Scalar | { value: Scalar; constraints?: Record<string, string> }[];

/** Dynamic config the project relies on (the same as on its dev server). */
export const CLUSTER_DYNAMIC_CONFIG: Record<string, DynamicConfigValue> = {
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  // Fleet rollouts list and count through visibility; the default (10/s) is too low for a CLI + dashboard.
  'frontend.namespaceRPS.visibility': 200,
  'frontend.MaxNamespaceVisibilityRPSPerInstance': 200,
};

/** The dynamic config file. */
export function dynamicConfigYaml(values: Record<string, DynamicConfigValue>): string {
  return stringify(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v : [{ value: v }]])),
  );
}

function sqlStore(i: ServerConfigInput, databaseName: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${i.postgres.host}:${i.postgres.port}`,
      connectProtocol: 'tcp',
      user: i.postgres.user,
      password: i.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

function service(p: ServicePorts) {
  return {
    rpc: {
      grpcPort: p.grpc,
      membershipPort: p.membership,
      bindOnLocalHost: true,
      ...(p.http ? { httpPort: p.http } : {}),
    },
  };
}

/**
 * The server's configuration (YAML): PostgreSQL persistence and SQL visibility in two databases,
 * `numHistoryShards` shards (fixed for the life of a cluster), all services on loopback, and,
 * with `tls`, mutual TLS on the frontend; the server's own system workers connect to the frontend
 * with the server's certificate. Internode traffic stays on loopback without TLS.
 */
export function serverConfigYaml(i: ServerConfigInput): string {
  const frontendAddress = `127.0.0.1:${i.ports.frontend.grpc}`;
  const tls = i.tls
    ? {
        tls: {
          frontend: {
            server: {
              certFile: i.tls.serverCert,
              keyFile: i.tls.serverKey,
              clientCaFiles: [i.tls.caCert],
              requireClientAuth: true,
            },
            client: { serverName: i.tls.serverName, rootCaFiles: [i.tls.caCert] },
          },
          systemWorker: {
            certFile: i.tls.serverCert,
            keyFile: i.tls.serverKey,
            client: { serverName: i.tls.serverName, rootCaFiles: [i.tls.caCert] },
          },
        },
      }
    : {};
  const config = {
    log: { stdout: true, level: i.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: i.numHistoryShards,
      datastores: {
        'postgres-default': sqlStore(i, i.databases.persistence, 20),
        'postgres-visibility': sqlStore(i, i.databases.visibility, 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      ...tls,
    },
    services: {
      frontend: service(i.ports.frontend),
      history: service(i.ports.history),
      matching: service(i.ports.matching),
      worker: service(i.ports.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: frontendAddress,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: i.dynamicConfigFile, pollInterval: '10s' },
  };
  return stringify(config);
}
