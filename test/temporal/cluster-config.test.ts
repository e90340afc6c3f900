import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRetention, renderSetup } from '../../src/cli/commands/setup';
import {
  CLUSTER_DYNAMIC_CONFIG,
  dynamicConfigYaml,
  lowPorts,
  pickClusterPorts,
  serverConfigYaml,
} from '../../src/temporal/cluster/server-config';
import { cloudInstructions, looksLikeTemporalCloud } from '../../src/temporal/setup';

const ROOT = path.resolve(__dirname, '../..');

describe('the cluster server config', () => {
  it('picks every port below 32768, where the SMALLINT membership columns hold them', async () => {
    const ports = await pickClusterPorts();
    const all = Object.values(ports).flatMap((p: Record<string, number>) => Object.values(p));
    expect(all).toHaveLength(9);
    expect(new Set(all).size).toBe(9);
    for (const p of all) expect(p).toBeLessThan(32768);
    for (const p of await lowPorts(3)) expect(p).toBeLessThan(32768);
  });

  it('writes PostgreSQL persistence, SQL visibility, the shards and mutual TLS on the frontend', async () => {
    const ports = await pickClusterPorts();
    const cfg = parse(
      serverConfigYaml({
        ports,
        numHistoryShards: 4,
        postgres: { host: '127.0.0.1', port: 25432, user: 'temporal', password: 'pw' },
        databases: { persistence: 'temporal', visibility: 'temporal_visibility' },
        tls: {
          dir: '/t',
          caCert: '/t/ca.pem',
          serverCert: '/t/server.pem',
          serverKey: '/t/server.key',
          clientCert: '/t/client.pem',
          clientKey: '/t/client.key',
          serverName: 'localhost',
        },
        dynamicConfigFile: '/t/dc.yaml',
      }),
    ) as {
      persistence: {
        numHistoryShards: number;
        visibilityStore: string;
        datastores: Record<string, { sql: { pluginName: string; connectAddr: string } }>;
      };
      global: {
        tls: {
          frontend: { server: { requireClientAuth: boolean; clientCaFiles: string[] } };
          systemWorker: { certFile: string };
        };
      };
      services: { frontend: { rpc: { grpcPort: number } } };
    };
    expect(cfg.persistence.numHistoryShards).toBe(4);
    expect(cfg.persistence.datastores[cfg.persistence.visibilityStore]?.sql.pluginName).toBe('postgres12');
    expect(cfg.persistence.datastores[cfg.persistence.visibilityStore]?.sql.connectAddr).toBe(
      '127.0.0.1:25432',
    );
    expect(cfg.global.tls.frontend.server).toMatchObject({
      requireClientAuth: true,
      clientCaFiles: ['/t/ca.pem'],
    });
    expect(cfg.global.tls.systemWorker.certFile).toBe('/t/server.pem');
    expect(cfg.services.frontend.rpc.grpcPort).toBe(ports.frontend.grpc);
  });

  it('gives docker-compose the same dynamic config as the cluster script', () => {
    const compose = parse(
      readFileSync(path.join(ROOT, 'deploy/temporal/dynamicconfig.yaml'), 'utf8'),
    ) as unknown;
    expect(compose).toEqual(parse(dynamicConfigYaml(CLUSTER_DYNAMIC_CONFIG)));
    expect(
      parse(dynamicConfigYaml({ k: [{ value: 1, constraints: { namespace: 'n' } }, { value: 2 }] })),
    ).toEqual({
      k: [{ value: 1, constraints: { namespace: 'n' } }, { value: 2 }],
    });
  });
});

describe('setup helpers', () => {
  it('recognises Temporal Cloud by its endpoints or an API key', () => {
    expect(looksLikeTemporalCloud('ns.acct.tmprl.cloud:7233')).toBe(true);
    expect(looksLikeTemporalCloud('eu-west-1.aws.api.temporal.io:7233')).toBe(true);
    expect(looksLikeTemporalCloud('temporal.internal:7233', 'key')).toBe(true);
    expect(looksLikeTemporalCloud('127.0.0.1:7233')).toBe(false);
  });

  it('names the tcld commands for what is missing on Temporal Cloud', () => {
    const lines = cloudInstructions('ns.acct', { namespace: false, attributes: ['SagRolloutId'] });
    expect(lines.join('\n')).toContain(
      'tcld namespace search-attributes add --namespace ns.acct --search-attribute "SagRolloutId=Keyword"',
    );
    expect(lines.join('\n')).not.toContain('tcld namespace create');
    expect(cloudInstructions('ns.acct', { namespace: false, attributes: [] })).toEqual([]);
  });

  it('takes --retention in days or as a duration, at least an hour', () => {
    expect(parseRetention('30')).toBe(30);
    expect(parseRetention('72h')).toBe(3);
    expect(() => parseRetention('10m')).toThrow(/at least an hour/);
  });

  it('renders each step, the verdict and what is left to do', () => {
    const text = renderSetup({
      namespace: 'n',
      address: 'a:1',
      cloud: false,
      ready: false,
      steps: [{ subject: 'namespace n', outcome: 'failed', detail: 'refused' }],
      instructions: ['do it by hand'],
    });
    expect(text).toBe(
      'namespace n: failed (refused)\nnamespace n on a:1 is NOT ready for sag-rollout\n\nstill to do:\n  - do it by hand\n',
    );
  });
});
