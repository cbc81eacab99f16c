/**
 * kubeconfig.ts's per-cluster transport decision, against client-go's rules: https, or http only
 * with insecure-skip-tls-verify, whatever the scheme's case; no CA with insecure-skip-tls-verify.
 */
import { describe, expect, it } from 'vitest';
import { clusterTransport } from '../../src/adapters/kubeconfig.js';
import { UsageError } from '../../src/core/errors.js';

describe('clusterTransport', () => {
  const cluster = (server: string, extra: object = {}) => ({ name: 'arn:k', server, skipTLSVerify: false, ...extra });

  it('takes https (any case) and http only with insecure-skip-tls-verify', () => {
    expect(clusterTransport(cluster('https://a'))).toBe('https:');
    expect(clusterTransport(cluster('HTTPS://a'))).toBe('https:');
    expect(clusterTransport(cluster('http://a', { skipTLSVerify: true }))).toBe('http:');
    expect(clusterTransport(cluster('HTTP://a', { skipTLSVerify: true }))).toBe('http:');
  });

  it('refuses plain HTTP without insecure-skip-tls-verify whatever the case, and other schemes, naming the entry', () => {
    for (const server of ['http://a', 'HTTP://a', 'Http://a', 'ftp://a', 'not a url']) {
      const err = (() => {
        try {
          clusterTransport(cluster(server));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, server).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('KUBECONFIG_INVALID');
      expect((err as UsageError).message).toContain('"arn:k"');
      expect((err as UsageError).message).not.toContain('\n');
    }
  });

  it('refuses insecure-skip-tls-verify with a certificate authority (client-go)', () => {
    for (const extra of [{ caFile: '/ca.crt' }, { caData: 'Zm9v' }]) {
      expect(() => clusterTransport(cluster('https://a', { skipTLSVerify: true, ...extra }))).toThrow(/"arn:k".*specifying a root certificates file with the insecure flag is not allowed/);
    }
  });
});
