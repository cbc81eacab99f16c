/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY as kubectl reads them (Go's ProxyFromEnvironment,
 * golang.org/x/net/http/httpproxy): the examples of its documentation, and its special cases.
 */
import { describe, expect, it } from 'vitest';
import { envProxies, type ProxyEnv } from '../../src/adapters/proxy-env.js';

const P = 'http://proxy.corp:3128';
const via = (env: ProxyEnv, url: string) => envProxies(env)?.(url) ?? null;

describe('which proxy a URL goes through', () => {
  it('none when no proxy variable is set (NO_PROXY alone names none)', () => {
    expect(envProxies({})).toBeNull();
    expect(envProxies({ noProxy: '*' })).toBeNull();
  });

  it('HTTPS_PROXY for https:// URLs, HTTP_PROXY for http:// ones, each named', () => {
    const env = { httpsProxy: P, httpProxy: 'http://plain.corp:8080' };
    expect(via(env, 'https://ABCD.gr7.us-east-1.eks.amazonaws.com')).toEqual({ url: P, from: 'HTTPS_PROXY' });
    expect(via(env, 'http://api.internal:8080/k8s')).toEqual({ url: 'http://plain.corp:8080', from: 'HTTP_PROXY' });
    expect(via({ httpsProxy: P }, 'http://api.internal')).toBeNull();
    expect(via({ httpProxy: P }, 'https://eks.us-east-1.amazonaws.com')).toBeNull();
  });

  it('a host[:port] value is an http:// proxy; socks5:// and https:// proxies are kept as given', () => {
    expect(via({ httpsProxy: 'proxy.corp:3128' }, 'https://x.example')).toEqual({ url: 'http://proxy.corp:3128', from: 'HTTPS_PROXY' });
    expect(via({ httpsProxy: 'socks5://bastion:1080' }, 'https://x.example')?.url).toBe('socks5://bastion:1080');
    expect(via({ httpsProxy: 'https://proxy.corp' }, 'https://x.example')?.url).toBe('https://proxy.corp');
  });

  it('never for localhost or a loopback address (Go\'s special case)', () => {
    for (const url of ['https://localhost:6443', 'http://127.0.0.1:45707/k8s', 'https://127.8.9.10', 'https://[::1]:6443']) {
      expect(via({ httpsProxy: P, httpProxy: P }, url), url).toBeNull();
    }
  });

  it('HTTP_PROXY is not used when REQUEST_METHOD is set (a CGI environment); HTTPS_PROXY still is', () => {
    expect(via({ httpProxy: P, cgi: true }, 'http://api.internal')).toBeNull();
    expect(via({ httpsProxy: P, cgi: true }, 'https://api.internal')).toEqual({ url: P, from: 'HTTPS_PROXY' });
  });
});

describe('NO_PROXY', () => {
  const env = (noProxy: string): ProxyEnv => ({ httpsProxy: P, noProxy });
  const direct = (noProxy: string, url: string) => via(env(noProxy), url) === null;

  it('"foo.com" matches foo.com and its subdomains; ".y.com" (and "*.y.com") only subdomains', () => {
    expect(direct('foo.com', 'https://foo.com')).toBe(true);
    expect(direct('foo.com', 'https://bar.foo.com')).toBe(true);
    expect(direct('foo.com', 'https://barfoo.com')).toBe(false);
    expect(direct('.y.com', 'https://x.y.com')).toBe(true);
    expect(direct('.y.com', 'https://y.com')).toBe(false);
    expect(direct('*.y.com', 'https://x.y.com')).toBe(true);
    expect(direct('*.y.com', 'https://y.com')).toBe(false);
  });

  it('"*" sends everything direct; matching ignores case and spaces; empty entries are skipped', () => {
    expect(direct('*', 'https://anything.example')).toBe(true);
    expect(direct(' , EKS.AMAZONAWS.COM ,', 'https://abc.gr7.us-east-1.eks.amazonaws.com')).toBe(true);
  });

  it('IP addresses and CIDR prefixes match IP hosts (IPv4 and IPv6)', () => {
    expect(direct('10.0.0.0/8', 'https://10.1.2.3:6443')).toBe(true);
    expect(direct('10.0.0.0/8', 'https://11.1.2.3')).toBe(false);
    expect(direct('192.168.1.10', 'https://192.168.1.10')).toBe(true);
    expect(direct('fd00::/8', 'https://[fd12::1]:443')).toBe(true);
    expect(direct('2001:db8::1', 'https://[2001:db8::1]')).toBe(true);
  });

  it('an entry with a port matches that port only (the URL\'s, else its scheme\'s default)', () => {
    expect(direct('1.2.3.4:6443', 'https://1.2.3.4:6443')).toBe(true);
    expect(direct('1.2.3.4:6443', 'https://1.2.3.4')).toBe(false);
    expect(direct('api.corp:443', 'https://api.corp')).toBe(true);
    expect(direct('api.corp:443', 'https://api.corp:6443')).toBe(false);
    expect(direct('[2001:db8::1]:8443', 'https://[2001:db8::1]:8443')).toBe(true);
  });

  it('a malformed entry is skipped, not fatal', () => {
    expect(direct(':80, 10.0.0.0/99, foo.com', 'https://foo.com')).toBe(true);
    expect(direct(':80, 10.0.0.0/99', 'https://10.1.1.1')).toBe(false);
  });
});
