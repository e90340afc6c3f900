import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialsConfigError, resolveCredentialsProvider } from '../../src/sag/credentials';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sag-credentials-'));
const emptyHome = path.join(tmp, 'empty-home');
mkdirSync(emptyHome);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ID = 'LTAI5tExampleKeyId000000';
const SECRET = 'ExampleSecretValue0123456789ab';
const TOKEN = 'CAISExampleStsToken==';

function configError(fn: () => unknown): CredentialsConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CredentialsConfigError);
    return err as CredentialsConfigError;
  }
  throw new Error('expected a CredentialsConfigError');
}

describe('resolveCredentialsProvider from explicit environment variables', () => {
  it('uses a static AccessKey provider', async () => {
    const provider = resolveCredentialsProvider(
      { ALIBABA_CLOUD_ACCESS_KEY_ID: ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET },
      { homeDir: emptyHome },
    );
    expect(provider.source).toBe('env-access-key');
    expect(provider.configuredBy).toEqual(['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET']);
    expect(await provider.getCredentials()).toEqual({ accessKeyId: ID, accessKeySecret: SECRET });
  });

  it('uses a static STS provider when a security token is set', async () => {
    const provider = resolveCredentialsProvider(
      {
        ALIBABA_CLOUD_ACCESS_KEY_ID: ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
        ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
      },
      { homeDir: emptyHome },
    );
    expect(provider.source).toBe('env-sts');
    expect(await provider.getCredentials()).toEqual({
      accessKeyId: ID,
      accessKeySecret: SECRET,
      securityToken: TOKEN,
    });
  });

  it('names the missing half of an AccessKey, never the value it has', () => {
    const noSecret = configError(() =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_ACCESS_KEY_ID: ID }, { homeDir: emptyHome }),
    );
    expect(noSecret.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_SECRET is missing');
    expect(noSecret.message).not.toContain(ID);
    const noId = configError(() =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET }, { homeDir: emptyHome }),
    );
    expect(noId.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID is missing');
    expect(noId.message).not.toContain(SECRET);
    const tokenOnly = configError(() =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN }, { homeDir: emptyHome }),
    );
    expect(tokenOnly.message).not.toContain(TOKEN);
  });

  it('ignores blank values', () => {
    expect(
      resolveCredentialsProvider(
        { ALIBABA_CLOUD_ACCESS_KEY_ID: '  ', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '' },
        { homeDir: emptyHome, allowMissing: true },
      ),
    ).toBeUndefined();
  });
});

describe('resolveCredentialsProvider with nothing configured', () => {
  it('throws a clear error listing every way to configure credentials', () => {
    const err = configError(() => resolveCredentialsProvider({}, { homeDir: emptyHome }));
    for (const name of [
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      'ALIBABA_CLOUD_ROLE_ARN',
      'ALIBABA_CLOUD_ECS_METADATA',
      '~/.aliyun/config.json',
    ]) {
      expect(err.message).toContain(name);
    }
  });

  it('returns undefined with allowMissing, never falling back to the metadata service', () => {
    expect(resolveCredentialsProvider({}, { homeDir: emptyHome, allowMissing: true })).toBeUndefined();
    expect(resolveCredentialsProvider({ HOME: emptyHome }, { allowMissing: true })).toBeUndefined();
  });

  it('names the missing OIDC variables when only some are set', () => {
    const err = configError(() =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1:role/x' }, { homeDir: emptyHome }),
    );
    expect(err.message).toContain('ALIBABA_CLOUD_OIDC_PROVIDER_ARN');
    expect(err.message).toContain('ALIBABA_CLOUD_OIDC_TOKEN_FILE');
  });

  it('does not count a disabled ECS role as configured', () => {
    expect(
      resolveCredentialsProvider(
        { ALIBABA_CLOUD_ECS_METADATA: 'role', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
        { homeDir: emptyHome, allowMissing: true },
      ),
    ).toBeUndefined();
  });
});

describe('resolveCredentialsProvider through the default chain', () => {
  // The chain reads the process environment itself: isolate it, and keep the metadata probe off
  // even if a source fails.
  beforeEach(() => {
    vi.stubEnv('HOME', emptyHome);
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', '');
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', '');
    vi.stubEnv('ALIBABA_CLOUD_ROLE_ARN', '');
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_URI', '');
    vi.stubEnv('ALIBABA_CLOUD_ECS_METADATA', '');
    vi.stubEnv('ALIBABA_CLOUD_ECS_METADATA_DISABLED', 'true');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses a credentials file named by ALIBABA_CLOUD_CREDENTIALS_FILE', async () => {
    const file = path.join(tmp, 'credentials.ini');
    writeFileSync(
      file,
      `[default]\ntype = access_key\naccess_key_id = ${ID}\naccess_key_secret = ${SECRET}\n`,
    );
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_FILE', file);
    const provider = resolveCredentialsProvider({ ...process.env }, { homeDir: emptyHome });
    expect(provider.source).toBe('credential-chain');
    expect(provider.configuredBy).toEqual(['ALIBABA_CLOUD_CREDENTIALS_FILE']);
    expect(await provider.getCredentials()).toEqual({ accessKeyId: ID, accessKeySecret: SECRET });
  });

  it('finds ~/.alibabacloud/credentials in the home directory', async () => {
    const home = path.join(tmp, 'home-with-file');
    mkdirSync(path.join(home, '.alibabacloud'), { recursive: true });
    writeFileSync(
      path.join(home, '.alibabacloud', 'credentials'),
      `[default]\ntype = access_key\naccess_key_id = ${ID}\naccess_key_secret = ${SECRET}\n`,
    );
    vi.stubEnv('HOME', home);
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_FILE', '');
    const provider = resolveCredentialsProvider({ ...process.env });
    expect(provider.configuredBy).toEqual(['~/.alibabacloud/credentials']);
    expect(await provider.getCredentials()).toEqual({ accessKeyId: ID, accessKeySecret: SECRET });
  });

  it('reports a failing chain without quoting credential values', async () => {
    const file = path.join(tmp, 'broken.ini');
    writeFileSync(file, `[default]\ntype = access_key\naccess_key_id = ${ID}\n`);
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_FILE', file);
    const provider = resolveCredentialsProvider({ ...process.env }, { homeDir: emptyHome });
    const err = await provider.getCredentials().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain('credential chain');
    expect(err!.message).not.toContain(ID);
  });
});
