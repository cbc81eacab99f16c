/**
 * The environment variables podid itself reads, read here and nowhere else (the AWS SDK reads
 * its own: AWS_PROFILE, AWS_ENDPOINT_URL*, credentials, AWS_CONFIG_FILE). podid never writes
 * process.env: what it decides (--profile over static keys) it passes to the adapters. The
 * environment is the run's (CliContext.env), never process.env read directly.
 */
import type { ProxyEnv } from '../adapters/proxy-env.js';

export interface CliEnv {
  /** AWS_REGION, else AWS_DEFAULT_REGION: the last-resort region of a context that names none. */
  readonly awsRegion: string | undefined;
  /** KUBECONFIG, as a path list; undefined when unset or empty. */
  readonly kubeconfig: string | undefined;
  /**
   * AWS_PROFILE: passed to the SDK as a profile, exactly as --profile is, so it wins over static
   * keys in the environment (the AWS CLI's rule) without the SDK's two-sources console warning.
   */
  readonly awsProfile: string | undefined;
  /**
   * HTTPS_PROXY, HTTP_PROXY and NO_PROXY (each, unset or empty, from its lower-case name; Go's
   * rule, which kubectl follows) and whether REQUEST_METHOD is set: AWS calls and Kubernetes
   * requests go through the proxy they name (adapters/proxy-env.ts).
   */
  readonly proxy: ProxyEnv;
  /**
   * AWS_ENDPOINT_URL and the service-specific AWS_ENDPOINT_URL_EKS, _IAM and _STS that are set
   * (the SDK reads them itself; podid reads them only to name a bad one), none when
   * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true tells the SDK to ignore them.
   */
  readonly awsEndpoints: readonly { readonly name: string; readonly value: string }[];
}

/** The endpoint variables of the services podid calls, each service's own first. */
const AWS_ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_EKS', 'AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL'] as const;

export function readEnv(env: Readonly<Record<string, string | undefined>>): CliEnv {
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  return {
    awsRegion: nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']),
    kubeconfig: nonEmpty(env['KUBECONFIG']),
    awsProfile: nonEmpty(env['AWS_PROFILE']),
    proxy: {
      httpProxy: nonEmpty(env['HTTP_PROXY']) ?? nonEmpty(env['http_proxy']),
      httpsProxy: nonEmpty(env['HTTPS_PROXY']) ?? nonEmpty(env['https_proxy']),
      noProxy: nonEmpty(env['NO_PROXY']) ?? nonEmpty(env['no_proxy']),
      cgi: nonEmpty(env['REQUEST_METHOD']) !== undefined,
    },
    awsEndpoints: env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.toLowerCase() === 'true'
      ? []
      : AWS_ENDPOINT_VARIABLES.flatMap((name) => {
          const value = nonEmpty(env[name]);
          return value === undefined ? [] : [{ name, value }];
        }),
  };
}
