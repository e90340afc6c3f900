import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { testConnectionOptions } from '../helpers/temporal';

describe('the cluster the suite runs on', () => {
  it('is the Temporal server on PostgreSQL with 4 history shards and SQL visibility', async () => {
    const { address, tls } = testConnectionOptions();
    const conn = await Connection.connect({ address, tls });
    try {
      const info = await conn.workflowService.getClusterInfo({});
      expect(info.historyShardCount).toBe(4);
      expect(info.persistenceStore).toBe('postgres12');
      expect(info.visibilityStore).toBe('postgres12');
      expect(info.serverVersion).toBe(inject('clusterInfo').serverVersion);
    } finally {
      await conn.close();
    }
  });

  it('refuses a client without the run’s client certificate', async () => {
    const { address, tls } = testConnectionOptions();
    const plain = Connection.connect({ address, connectTimeout: 3000 }).then(async (c) => {
      try {
        await c.workflowService.getSystemInfo({});
      } finally {
        await c.close();
      }
    });
    await expect(plain).rejects.toThrow();
    const noCert = Connection.connect({
      address,
      connectTimeout: 3000,
      tls: {
        serverNameOverride: tls && typeof tls === 'object' ? tls.serverNameOverride : undefined,
        serverRootCACertificate: tls && typeof tls === 'object' ? tls.serverRootCACertificate : undefined,
      },
    }).then(async (c) => {
      try {
        await c.workflowService.getSystemInfo({});
      } finally {
        await c.close();
      }
    });
    await expect(noCert).rejects.toThrow();
  });

  it('writes a temporal.toml profile with the address, namespace and TLS files', () => {
    const toml = readFileSync(inject('clusterInfo').profileFile, 'utf8');
    expect(toml).toContain('[profile.cluster]');
    expect(toml).toContain(`address = "${inject('clusterInfo').address}"`);
    expect(toml).toMatch(/client_cert_path = ".*client\.pem"/);
    expect(toml).toMatch(/server_ca_cert_path = ".*ca\.pem"/);
  });
});
