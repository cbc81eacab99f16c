/**
 * Small text helpers the domain shares (one copy each).
 */

/** `1 workload`, `2 workloads`: a count and its noun in the form the count takes (`pluralForm` for irregular nouns). */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

/** Code-unit order, as `<` compares strings: stable across locales (unlike localeCompare), for sorting report rows and plan steps. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * AWS's wildcard match: `*` is any run of characters, `?` exactly one, everything else literal.
 * IAM action patterns and EKS Fargate selectors use exactly this; picomatch (used for the
 * allowlist's path-like globs) would treat `/`, brackets and braces specially, which these do not.
 */
export function wildcardMatch(pattern: string, value: string, opts: { ignoreCase?: boolean } = {}): boolean {
  const cache = wildcardCache[opts.ignoreCase ? 1 : 0];
  let re = cache.get(pattern);
  if (re === undefined) {
    // Compiled once per pattern (bounded): fleet scans match the same few patterns thousands of times.
    if (cache.size >= WILDCARD_LIMIT) cache.clear();
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, opts.ignoreCase ? 'is' : 's');
    cache.set(pattern, re);
  }
  return re.test(value);
}

const WILDCARD_LIMIT = 10_000;
const wildcardCache = [new Map<string, RegExp>(), new Map<string, RegExp>()] as const;
