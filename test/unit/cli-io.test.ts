import { describe, expect, it, vi } from 'vitest';
import { colorWanted, spinnerWanted } from '../../src/cli/io.js';
import { checkNamespaceFlags, positiveInt } from '../../src/cli/live-scan.js';

describe('terminal rules', () => {
  it('colour: --no-color and NO_COLOR win, FORCE_COLOR forces, else only on a TTY', () => {
    expect(colorWanted({ color: false }, {}, true)).toBe(false);
    expect(colorWanted({}, { NO_COLOR: '1' }, true)).toBe(false);
    expect(colorWanted({}, { NO_COLOR: '' }, true)).toBe(true);
    expect(colorWanted({}, { FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorWanted({}, {}, false)).toBe(false);
  });

  it('spinner: only on a TTY with columns, never in CI', () => {
    expect(spinnerWanted({ isTTY: true, columns: 120 }, {})).toBe(true);
    expect(spinnerWanted({ isTTY: true, columns: 0 }, {})).toBe(false);
    expect(spinnerWanted({ isTTY: true }, {})).toBe(false);
    expect(spinnerWanted({ isTTY: false, columns: 120 }, {})).toBe(false);
    expect(spinnerWanted({ isTTY: true, columns: 120 }, { CI: 'true' })).toBe(false);
  });
});

describe('flag values', () => {
  it('positiveInt names the flag and gives a fitting example', () => {
    expect(positiveInt('--trust-policy-limit', '4096', 2048)).toBe(4096);
    expect(() => positiveInt('--trust-policy-limit', 'abc', 2048)).toThrow(/--trust-policy-limit abc/);
    try {
      positiveInt('--trust-policy-limit', 'abc', 2048);
    } catch (err) {
      expect((err as { hint: string }).hint).toBe('for example --trust-policy-limit 2048');
    }
  });

  it('namespaces must be Kubernetes names', () => {
    expect(checkNamespaceFlags(['kube-system', 'shop'])).toEqual(['kube-system', 'shop']);
    expect(() => checkNamespaceFlags(['Bad NS'])).toThrow(/--namespace Bad NS/);
  });
});

describe('--profile', () => {
  it('is handed to the SDK with a logger of its own, so the SDK skips static env keys without a console warning', async () => {
    const { clientConfig } = await import('../../src/adapters/aws.js');
    const withProfile = clientConfig({ profile: 'sbx' }, 'us-east-1') as { profile?: string; logger?: { warn(m: string): void } };
    expect(withProfile.profile).toBe('sbx');
    expect(withProfile.logger).toBeDefined();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    withProfile.logger!.warn('Multiple credential sources detected');
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(clientConfig({}, 'us-east-1')).not.toHaveProperty('logger');
  });
});

describe('readEnv', () => {
  it('reads AWS_REGION before AWS_DEFAULT_REGION, treats empty values as unset, and never writes', async () => {
    const { readEnv } = await import('../../src/cli/env.js');
    const env: NodeJS.ProcessEnv = Object.freeze({ AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-west-1', KUBECONFIG: '/a:/b' });
    const noProxy = { httpProxy: undefined, httpsProxy: undefined, noProxy: undefined, cgi: false };
    expect(readEnv(env)).toEqual({ awsRegion: 'eu-west-1', kubeconfig: '/a:/b', awsProfile: undefined, proxy: noProxy, awsEndpoints: [] });
    expect(readEnv({ AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'eu-west-1', AWS_PROFILE: 'dev' })).toEqual({ awsRegion: 'us-east-2', kubeconfig: undefined, awsProfile: 'dev', proxy: noProxy, awsEndpoints: [] });
  });

  it('reads the proxy variables as Go does: upper case first, lower case when it is unset or empty; REQUEST_METHOD marks CGI', async () => {
    const { readEnv } = await import('../../src/cli/env.js');
    expect(readEnv({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2', HTTP_PROXY: '', http_proxy: 'http://c:3', no_proxy: '.corp', REQUEST_METHOD: 'GET' }).proxy).toEqual({
      httpsProxy: 'http://a:1',
      httpProxy: 'http://c:3',
      noProxy: '.corp',
      cgi: true,
    });
  });
});

describe('AWS_ENDPOINT_URL*', () => {
  it('are read, the service\'s own first; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops them', async () => {
    const { readEnv } = await import('../../src/cli/env.js');
    expect(readEnv({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_IAM: 'http://i', AWS_ENDPOINT_URL_S3: 'x' }).awsEndpoints).toEqual([
      { name: 'AWS_ENDPOINT_URL_IAM', value: 'http://i' },
      { name: 'AWS_ENDPOINT_URL', value: 'http://a' },
    ]);
    expect(readEnv({ AWS_ENDPOINT_URL: 'bad', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).awsEndpoints).toEqual([]);
  });

  it('one that is not a URL is an environment error naming the variable and its value', async () => {
    const { readEnv } = await import('../../src/cli/env.js');
    const { checkAwsEndpoints } = await import('../../src/cli/live-scan.js');
    expect(() => checkAwsEndpoints(readEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }))).not.toThrow();
    expect(() => checkAwsEndpoints(readEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_STS: 'not a url' }))).toThrow(
      expect.objectContaining({ code: 'AWS_ENDPOINT_INVALID', exit: 'environment', message: 'AWS_ENDPOINT_URL_STS is not a valid URL: "not a url"' }),
    );
  });
});

describe('--request-timeout', () => {
  it("reads kubectl's durations: a unit, combined units, a bare number of seconds, 0 for none", async () => {
    const { parseRequestTimeout } = await import('../../src/cli/live-scan.js');
    expect(parseRequestTimeout('30s')).toBe(30_000);
    expect(parseRequestTimeout('500ms')).toBe(500);
    expect(parseRequestTimeout('1m30s')).toBe(90_000);
    expect(parseRequestTimeout('2')).toBe(2_000);
    expect(parseRequestTimeout('0')).toBe(0);
    for (const bad of ['soon', '10x', '', '-1s', '1s2']) expect(() => parseRequestTimeout(bad), bad).toThrow(/--request-timeout .*: expected a duration/);
  });
});
