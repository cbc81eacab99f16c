/**
 * -n / --service-account scoping, shared by the collector (which filters the Kubernetes lists)
 * and the analysis (which decides which add-ons a narrowed scan reports). The scope travels on
 * the FleetSnapshot so the analysis judges exactly what the collector was asked to read.
 */
import { UsageError } from '../errors.js';

/** What -n / --service-account asked for; both empty: everything. */
export interface ScanScope {
  /** Namespaces; empty: all. */
  readonly namespaces: readonly string[];
  /** `namespace/name` references, trimmed; empty: every service account (of the namespaces). */
  readonly serviceAccounts: readonly string[];
}

export interface Scope {
  /** No namespace or service-account scoping: everything is in. */
  readonly unscoped: boolean;
  namespace(ns: string): boolean;
  serviceAccount(ns: string, name: string): boolean;
}

/** Validates the flags' values and normalises them (NAMESPACE/NAME, trimmed, deduplicated). */
export function scanScope(namespaces: readonly string[] = [], serviceAccounts: readonly string[] = []): ScanScope {
  const accounts = new Set<string>();
  for (const ref of serviceAccounts) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(ref.trim());
    if (!m) throw new UsageError('SERVICE_ACCOUNT_REF_INVALID', `--service-account ${JSON.stringify(ref)} is not NAMESPACE/NAME`, 'e.g. --service-account shop/cart');
    accounts.add(`${m[1]}/${m[2]}`);
  }
  return { namespaces: [...new Set(namespaces)].sort(), serviceAccounts: [...accounts].sort() };
}

/** The predicates for a scope; an absent scope (a snapshot built without one) admits everything. */
export function scopeFilter(scope: ScanScope | undefined): Scope {
  const namespaces = new Set(scope?.namespaces ?? []);
  const accounts = new Set(scope?.serviceAccounts ?? []);
  const namespace = (ns: string) => namespaces.size === 0 || namespaces.has(ns);
  return {
    unscoped: namespaces.size === 0 && accounts.size === 0,
    namespace,
    serviceAccount: (ns, name) => namespace(ns) && (accounts.size === 0 || accounts.has(`${ns}/${name}`)),
  };
}
