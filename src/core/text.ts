/**
 * Small text helpers the domain shares (one copy each).
 */

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
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, opts.ignoreCase ? 'is' : 's').test(value);
}
