import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalTarget } from '../../src/temporal/connection';

// The CLI, the worker and the dashboard all build their connection with temporalTarget.
describe('temporalTarget reads Temporal environment configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sag-profile-'));
  for (const f of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, f), `${f} contents`);
  const file = path.join(dir, 'temporal.toml');
  writeFileSync(
    file,
    [
      '[profile.prod]',
      'address = "temporal.internal:7233"',
      'namespace = "sag-rollout"',
      '[profile.prod.tls]',
      `server_ca_cert_path = "${path.join(dir, 'ca.pem')}"`,
      `client_cert_path = "${path.join(dir, 'client.pem')}"`,
      `client_key_path = "${path.join(dir, 'client.key')}"`,
      'server_name = "temporal.internal"',
      '[profile.cloud]',
      'address = "eu-west-1.aws.api.temporal.io:7233"',
      'namespace = "sag.a1b2c"',
      'api_key = "secret-key"',
      '',
    ].join('\n'),
  );

  it('takes a profile with a client certificate: address, namespace and the TLS files', () => {
    const t = temporalTarget({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(t.namespace).toBe('sag-rollout');
    expect(t.connectionOptions.address).toBe('temporal.internal:7233');
    const tls = t.connectionOptions.tls as {
      serverNameOverride?: string;
      serverRootCACertificate?: Uint8Array;
      clientCertPair?: { crt: Uint8Array; key: Uint8Array };
    };
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe('ca.pem contents');
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe('client.pem contents');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe('client.key contents');
  });

  it('takes an API key profile, which implies TLS', () => {
    const t = temporalTarget({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(t.connectionOptions.apiKey).toBe('secret-key');
    expect(t.connectionOptions.tls).toBe(true);
    expect(t.namespace).toBe('sag.a1b2c');
  });

  it('lets the environment, then --address and --namespace, override the profile', () => {
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' };
    expect(temporalTarget(env).namespace).toBe('other');
    const t = temporalTarget(env, { address: '10.0.0.1:7233', namespace: 'third' });
    expect(t.connectionOptions.address).toBe('10.0.0.1:7233');
    expect(t.namespace).toBe('third');
    expect(t.connectionOptions.tls).toBeTruthy();
  });
});
