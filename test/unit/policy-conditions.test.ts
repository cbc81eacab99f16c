import { describe, expect, it } from 'vitest';
import { actionMatches, evaluateCondition, matchesStringCondition, matchStatement, parseOperator, parseStatement } from '../../src/core/policy/index.js';
import type { RequestValue } from '../../src/core/policy/index.js';

const SA = 'system:serviceaccount:kube-system:efs-csi-controller-sa';
const CLUSTER = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';

describe('matchesStringCondition', () => {
  const cases: [string, string | string[], RequestValue, boolean][] = [
    // StringEquals is exact: `*` is a literal and never a wildcard.
    ['StringEquals', SA, SA, true],
    ['StringEquals', 'system:serviceaccount:kube-system:*', SA, false],
    ['StringEquals', 'system:serviceaccount:kube-system:*', 'system:serviceaccount:kube-system:*', true],
    ['StringEquals', SA.toUpperCase(), SA, false],
    ['StringEquals', ['a', SA], SA, true],
    ['StringEquals', SA, undefined, false],
    // StringLike globs.
    ['StringLike', 'system:serviceaccount:kube-system:efs-csi-*', SA, true],
    ['StringLike', 'system:serviceaccount:kube-system:efs-csi-*', 'system:serviceaccount:kube-system:other', false],
    ['StringLike', 'system:serviceaccount:*:efs-csi-controller-sa', SA, true],
    ['StringLike', 'system:serviceaccount:kube-system:efs-csi-*', 'system:serviceaccount:kube-system:efs-csi-', true],
    ['StringLike', 'a?c', 'abc', true],
    ['StringLike', 'a?c', 'ac', false],
    ['StringLike', 'a?c', 'abbc', false],
    ['StringLike', '*', '', true],
    ['StringLike', 'a*b*c', 'axxbyyc', true],
    ['StringLike', 'a*b*c', 'axxbyy', false],
    ['StringLike', 'A*', 'abc', false],
    ['StringLike', 'a${*}', 'a*', true],
    ['StringLike', 'a${*}', 'ab', false],
    // Negated operators: none of the values matches, or the key is absent.
    ['StringNotEquals', 'a', 'b', true],
    ['StringNotEquals', ['a', 'b'], 'b', false],
    ['StringNotEquals', 'a', undefined, true],
    ['StringNotLike', 'system:serviceaccount:kube-system:*', SA, false],
    ['StringNotLike', 'system:serviceaccount:default:*', SA, true],
    // Case-insensitive variants.
    ['StringEqualsIgnoreCase', 'STS.AmazonAWS.com', 'sts.amazonaws.com', true],
    ['StringNotEqualsIgnoreCase', 'STS.AmazonAWS.com', 'sts.amazonaws.com', false],
    // ARNs: each of the six fields on its own, with wildcards per field.
    ['ArnEquals', CLUSTER, CLUSTER, true],
    ['ArnEquals', CLUSTER, 'arn:aws:eks:us-east-1:111122223333:cluster/prod2', false],
    ['ArnLike', 'arn:aws:eks:*:111122223333:cluster/*', CLUSTER, true],
    ['ArnLike', 'arn:aws:eks:*:444455556666:cluster/*', CLUSTER, false],
    ['ArnLike', 'arn:aws:eks:us-*-1:111122223333:cluster/pro?', CLUSTER, true],
    // A `*` in one field does not run across a colon into the next.
    ['ArnLike', 'arn:aws:eks:*:cluster/prod', CLUSTER, false],
    ['ArnLike', 'not-an-arn', CLUSTER, false],
    ['ArnNotEquals', CLUSTER, 'arn:aws:eks:us-east-1:111122223333:cluster/dev', true],
    ['ArnNotLike', 'arn:aws:eks:*:111122223333:cluster/*', CLUSTER, false],
    // IfExists: absent keys pass, present ones are checked.
    ['StringEqualsIfExists', 'a', undefined, true],
    ['StringEqualsIfExists', 'a', 'b', false],
    ['ArnLikeIfExists', 'arn:aws:eks:*:111122223333:cluster/*', CLUSTER, true],
    // Multi-valued keys.
    ['ForAnyValue:StringLike', 'kubernetes-*', ['eks-cluster-arn', 'kubernetes-namespace'], true],
    ['ForAnyValue:StringLike', 'kubernetes-*', ['eks-cluster-arn'], false],
    ['ForAnyValue:StringEquals', 'a', undefined, false],
    ['ForAnyValue:StringEquals', 'a', [], false],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'c'], false],
    ['ForAllValues:StringEquals', ['a'], undefined, true],
    ['ForAllValues:StringNotEquals', ['x'], ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', ['a'], ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', ['a'], ['a'], false],
    // Bool and Null.
    ['Bool', 'true', 'TRUE', true],
    ['Bool', 'false', 'true', false],
    ['Null', 'true', undefined, true],
    ['Null', 'true', 'x', false],
    ['Null', 'false', 'x', true],
    // A policy variable cannot be resolved: not provably matching.
    ['StringEquals', '${aws:username}', 'alice', false],
  ];
  it.each(cases)('%s %j vs %j -> %s', (op, values, actual, expected) => {
    expect(matchesStringCondition(op, values, actual)).toBe(expected);
  });

  it('throws for operators it cannot evaluate', () => {
    expect(() => matchesStringCondition('NumericLessThan', '3', '1')).toThrow(/NumericLessThan/);
  });

  it('evaluateCondition says "cannot tell" instead of guessing', () => {
    expect(evaluateCondition('NumericLessThan', '3', '1')).toBeUndefined();
    expect(evaluateCondition('IpAddress', '10.0.0.0/8', '10.0.0.1')).toBeUndefined();
    expect(evaluateCondition('StringEquals', '${aws:username}', 'alice')).toBeUndefined();
    expect(evaluateCondition('StringNotEquals', '${aws:username}', 'alice')).toBeUndefined();
  });
});

describe('parseOperator', () => {
  it.each([
    ['StringEquals', { base: 'StringEquals', set: undefined, ifExists: false, negated: false }],
    ['ForAnyValue:StringNotLikeIfExists', { base: 'StringNotLike', set: 'ForAnyValue', ifExists: true, negated: true }],
    ['ForAllValues:ArnLike', { base: 'ArnLike', set: 'ForAllValues', ifExists: false, negated: false }],
    ['toString', { base: 'toString', set: undefined, ifExists: false, negated: false }],
  ])('%s', (op, parsed) => {
    expect(parseOperator(op)).toEqual(parsed);
  });
});

describe('actions', () => {
  it.each([
    ['sts:AssumeRoleWithWebIdentity', 'sts:AssumeRoleWithWebIdentity', true],
    ['STS:assumerolewithwebidentity', 'sts:AssumeRoleWithWebIdentity', true],
    ['sts:*', 'sts:AssumeRole', true],
    ['*', 'sts:TagSession', true],
    ['sts:Assume*', 'sts:AssumeRoleWithWebIdentity', true],
    ['sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity', false],
    ['iam:*', 'sts:AssumeRole', false],
  ])('%s covers %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('matchStatement', () => {
  const statement = parseStatement({
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: { StringEquals: { 'AWS:SourceAccount': '111122223333' }, StringLike: { 'aws:SourceOrgId': 'o-*' } },
  });
  const request = (keys: [string, string][]) => ({ principal: { type: 'Service' as const, id: 'pods.eks.amazonaws.com' }, action: 'sts:AssumeRole', keys: new Map(keys) });

  it('matches condition keys case-insensitively', () => {
    const m = matchStatement(statement, request([['aws:sourceaccount', '111122223333'], ['aws:sourceorgid', 'o-abc']]));
    expect(m).toMatchObject({ principal: true, action: true, applies: 'yes', unknownKeys: [] });
  });

  it('reports keys it does not know as unknown rather than admitting', () => {
    const m = matchStatement(statement, request([['aws:sourceaccount', '111122223333']]));
    expect(m).toMatchObject({ applies: 'unknown', unknownKeys: ['aws:SourceOrgId'] });
  });

  it('is a definite no when a known condition fails, whatever else is unknown', () => {
    expect(matchStatement(statement, request([['aws:sourceaccount', '444455556666']])).applies).toBe('no');
  });

  it('does not apply to another principal or action', () => {
    const other = { ...request([['aws:sourceaccount', '111122223333'], ['aws:sourceorgid', 'o-abc']]), action: 'sts:AssumeRoleWithWebIdentity' };
    expect(matchStatement(statement, other).applies).toBe('no');
    const ec2 = { ...request([]), principal: { type: 'Service' as const, id: 'ec2.amazonaws.com' } };
    expect(matchStatement(statement, ec2).principal).toBe(false);
  });
});
