import { describe, expect, it } from 'vitest';
import { compareStrings, wildcardMatch } from '../../src/core/text.js';

describe('core/text helpers (one copy each)', () => {
  it('compareStrings orders by code unit, not locale', () => {
    expect(['b', 'B', 'a', 'aa'].sort(compareStrings)).toEqual(['B', 'a', 'aa', 'b']);
    expect(compareStrings('x', 'x')).toBe(0);
  });

  it('wildcardMatch: * and ? only, everything else literal, case-insensitive on request', () => {
    expect(wildcardMatch('eks-auth:*', 'eks-auth:AssumeRoleForPodIdentity')).toBe(true);
    expect(wildcardMatch('EKS-AUTH:assume?oleForPodIdentity', 'eks-auth:AssumeRoleForPodIdentity', { ignoreCase: true })).toBe(true);
    expect(wildcardMatch('EKS-AUTH:*', 'eks-auth:x')).toBe(false);
    expect(wildcardMatch('team-*', 'team-a/b')).toBe(true); // no path semantics, unlike picomatch
    expect(wildcardMatch('a.b[1]', 'a.b[1]')).toBe(true);
    expect(wildcardMatch('a.b', 'aXb')).toBe(false);
  });
});
