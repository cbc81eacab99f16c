import { describe, expect, it } from 'vitest';
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
  it('wins over static keys in the environment, as in the AWS CLI', async () => {
    const { profileOverridesEnvKeys } = await import('../../src/cli/live-scan.js');
    const env: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c', AWS_REGION: 'us-east-1' };
    profileOverridesEnvKeys(env);
    expect(env).toEqual({ AWS_REGION: 'us-east-1' });
  });
});
