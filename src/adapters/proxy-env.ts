/**
 * HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as kubectl and the AWS CLI honour them. kubectl (client-go)
 * sends a cluster without `proxy-url` through Go's net/http ProxyFromEnvironment, whose rules
 * (golang.org/x/net/http/httpproxy, "Config" and "ProxyFunc") are these, implemented here:
 *
 * - HTTPS_PROXY for https:// URLs, HTTP_PROXY for http:// ones; each also read in lower case when
 *   the upper-case one is unset or empty; HTTP_PROXY is ignored when REQUEST_METHOD is set (a CGI
 *   environment, where a client could set it);
 * - a value is a URL (http, https or socks5) or `host[:port]`, read as http://host[:port];
 * - `localhost` and loopback addresses are never proxied;
 * - NO_PROXY is a comma-separated list: `*` (nothing is proxied), an IP address or CIDR prefix
 *   (10.0.0.0/8), a domain name (`foo.com` matches foo.com and its subdomains, `.y.com` and
 *   `*.y.com` only subdomains), each optionally with a port (`1.2.3.4:80`, `foo.com:443`);
 *   matching ignores case, and entries that cannot be read are skipped.
 *
 * The AWS SDK for JavaScript reads none of these itself ("Configure proxies for Node.js" in its
 * developer guide: a proxy is an HTTP agent given to the client, hpagent in its example); the AWS
 * CLI does. podid gives the SDK such an agent (proxyAgents), so that AWS calls and Kubernetes
 * requests go where kubectl and the AWS CLI would send them from the same shell.
 */
import { BlockList, isIP } from 'node:net';
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { UsageError } from '../core/errors.js';

/** The proxy variables of a run's environment (cli/env.ts reads them). */
export interface ProxyEnv {
  /** HTTP_PROXY, else http_proxy. */
  readonly httpProxy?: string | undefined;
  /** HTTPS_PROXY, else https_proxy. */
  readonly httpsProxy?: string | undefined;
  /** NO_PROXY, else no_proxy. */
  readonly noProxy?: string | undefined;
  /** REQUEST_METHOD is set: HTTP_PROXY is not used. */
  readonly cgi?: boolean | undefined;
}

/** The proxy for a URL, and the variable that named it (for messages). */
export interface EnvProxy {
  readonly url: string;
  readonly from: 'HTTPS_PROXY' | 'HTTP_PROXY';
}

/** Decides, for any URL, whether and through which proxy the environment sends it. */
export type ProxyFor = (url: string) => EnvProxy | null;

/** The `ProxyFor` of these variables; null when they name no proxy. */
export function envProxies(env: ProxyEnv): ProxyFor | null {
  const https = proxyUrl(env.httpsProxy);
  const http = env.cgi ? null : proxyUrl(env.httpProxy);
  if (!https && !http) return null;
  const noProxy = parseNoProxy(env.noProxy ?? '');
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return null;
    }
    const scheme = url.protocol;
    const proxy = scheme === 'https:' ? https : scheme === 'http:' ? http : null;
    if (!proxy) return null;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = url.port || (scheme === 'https:' ? '443' : '80');
    if (host === 'localhost' || isLoopback(host) || noProxy(host, port)) return null;
    return { url: proxy, from: scheme === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY' };
  };
}

/** A proxy variable's URL: as given when it has a scheme podid can use, else http://VALUE. */
function proxyUrl(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  const v = value.trim();
  try {
    const u = new URL(v);
    if (['http:', 'https:', 'socks5:'].includes(u.protocol) && u.hostname !== '') return v;
  } catch {
    // Not a URL: host[:port].
  }
  try {
    return new URL(`http://${v}`).hostname !== '' ? `http://${v}` : null;
  } catch {
    return null;
  }
}

/** IPv6 loopback: ::1, and IPv4's 127.0.0.0/8 written as mapped addresses. */
const IPV6_LOOPBACK = new BlockList();
IPV6_LOOPBACK.addAddress('::1', 'ipv6');
IPV6_LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  return family === 6 && IPV6_LOOPBACK.check(host, 'ipv6');
}

/** NO_PROXY's entries as one test of a (lower-case) host and port. */
function parseNoProxy(value: string): (host: string, port: string) => boolean {
  const ips: { check: (ip: string, family: 'ipv4' | 'ipv6') => boolean; port: string }[] = [];
  const domains: { suffix: string; exact: boolean; port: string }[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return () => true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!) !== 0) {
      const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
      const list = new BlockList();
      try {
        list.addSubnet(cidr[1]!, Number(cidr[2]), family);
      } catch {
        continue;
      }
      ips.push({ check: (ip, f) => list.check(ip, f), port: '' });
      continue;
    }
    const { host, port } = splitHostPort(entry);
    if (host === '') continue;
    const family = isIP(host);
    if (family !== 0) {
      const list = new BlockList();
      list.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
      ips.push({ check: (ip, f) => list.check(ip, f), port });
      continue;
    }
    const name = host.startsWith('*.') ? host.slice(1) : host;
    domains.push(name.startsWith('.') ? { suffix: name, exact: false, port } : { suffix: `.${name}`, exact: true, port });
  }
  return (host, port) => {
    const family = isIP(host);
    if (family !== 0) {
      const f = family === 4 ? 'ipv4' : 'ipv6';
      if (ips.some((m) => m.check(host, f) && (m.port === '' || m.port === port))) return true;
    }
    return domains.some((d) => (host.endsWith(d.suffix) || (d.exact && host === d.suffix.slice(1))) && (d.port === '' || d.port === port));
  };
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  if (isIP(entry) === 6) return { host: entry, port: '' };
  const m = /^([^:]*):(\d+)$/.exec(entry);
  return m ? { host: m[1]!, port: m[2]! } : { host: entry, port: '' };
}

type CreateConnection = (options: Record<string, unknown>, callback: (err: Error | null, socket?: Duplex) => void) => Duplex | undefined;

/**
 * HTTP and HTTPS agents for the AWS SDK's NodeHttpHandler that send each connection where
 * `proxyFor` says: through an HTTP CONNECT tunnel to the proxy (hpagent, the agent the SDK's
 * guide shows), or straight to the endpoint. Connections are kept alive and pooled per endpoint
 * as the SDK's own agents do. A socks5:// proxy is refused here (kubectl's Kubernetes requests
 * take one, through client-node; the AWS calls do not).
 */
export async function proxyAgents(proxyFor: ProxyFor, options: AgentOptions = { keepAlive: true, maxSockets: 50 }): Promise<{ httpAgent: HttpAgent; httpsAgent: HttpsAgent }> {
  const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
  const tunnels = new Map<string, { createConnection: CreateConnection }>();
  const tunnel = (secure: boolean, proxy: EnvProxy): { createConnection: CreateConnection } => {
    const key = `${secure}:${proxy.url}`;
    let agent = tunnels.get(key);
    if (!agent) {
      const made = secure ? new HttpsProxyAgent({ ...options, proxy: proxy.url }) : new HttpProxyAgent({ ...options, proxy: proxy.url });
      agent = made as unknown as { createConnection: CreateConnection };
      tunnels.set(key, agent);
    }
    return agent;
  };
  const route = (secure: boolean, direct: CreateConnection): CreateConnection =>
    function (this: unknown, opts, callback) {
      const host = String(opts['host'] ?? opts['hostname'] ?? '');
      const url = `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${String(opts['port'] ?? (secure ? 443 : 80))}`;
      const proxy = proxyFor(url);
      if (!proxy) return direct.call(this, opts, callback);
      if (new URL(proxy.url).protocol === 'socks5:') {
        // The request fails with this (a usage error: not retried, passed through as it is).
        process.nextTick(() => callback(new UsageError('PROXY_UNSUPPORTED', `${proxy.from} is ${proxy.url}: podid sends AWS calls through http:// or https:// proxies only`, `set ${proxy.from} to this network's HTTP proxy, or add the AWS endpoints to NO_PROXY`)));
        return undefined;
      }
      tunnel(secure, proxy).createConnection(opts, callback);
      return undefined;
    };
  const httpAgent = new HttpAgent(options);
  const httpsAgent = new HttpsAgent(options);
  const agentWithConnect = (a: HttpAgent | HttpsAgent) => a as unknown as { createConnection: CreateConnection };
  agentWithConnect(httpAgent).createConnection = route(false, agentWithConnect(httpAgent).createConnection.bind(httpAgent));
  agentWithConnect(httpsAgent).createConnection = route(true, agentWithConnect(httpsAgent).createConnection.bind(httpsAgent));
  return { httpAgent, httpsAgent };
}
