import { describe, expect, it } from 'vitest';
import { actionMatches, evaluateCondition, isNotPrincipalAllow, matchesStringCondition, matchStatement, parseOperator, parseStatement, podIdentityRequests } from '../../src/core/policy/index.js';
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
    // A bare `*` is "any ARN", not a one-field ARN that never matches.
    ['ArnLike', '*', CLUSTER, true],
    ['ArnEquals', '*', CLUSTER, true],
    ['ArnLike', ['arn:aws:eks:*:444455556666:cluster/*', '*'], CLUSTER, true],
    ['ArnNotLike', '*', CLUSTER, false],
    ['ArnNotEquals', '*', CLUSTER, false],
    ['ArnLike', '*', undefined, false],
    // Absent key: a negated operator holds (IAM: "the condition is true"), so this Deny-shape applies.
    ['ArnNotLike', '*', undefined, true],
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

  it('never lets an Allow with NotPrincipal admit anyone, but evaluates a Deny with NotPrincipal', () => {
    const notPrincipal = { NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'sts:*' };
    const req = request([]);
    const allow = parseStatement({ Effect: 'Allow', ...notPrincipal });
    expect(isNotPrincipalAllow(allow)).toBe(true);
    expect(matchStatement(allow, req)).toMatchObject({ principal: false, applies: 'no' });
    const deny = parseStatement({ Effect: 'Deny', ...notPrincipal });
    expect(isNotPrincipalAllow(deny)).toBe(false);
    expect(matchStatement(deny, req)).toMatchObject({ principal: true, applies: 'yes' });
    const denyExceptPods = parseStatement({ Effect: 'Deny', NotPrincipal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:*' });
    expect(matchStatement(denyExceptPods, req).applies).toBe('no');
  });
});

describe('podIdentityRequests: keys fixed for the service principal', () => {
  const { assumeRole } = podIdentityRequests({ clusterArn: CLUSTER, clusterAccount: '111122223333' });
  const deny = (condition: Record<string, Record<string, string>>) =>
    matchStatement(parseStatement({ Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: condition }), assumeRole).applies;

  it.each([
    ['Bool aws:PrincipalIsAWSService true', { Bool: { 'aws:PrincipalIsAWSService': 'true' } }, 'yes'],
    ['Bool aws:PrincipalIsAWSService false', { Bool: { 'aws:PrincipalIsAWSService': 'false' } }, 'no'],
    ['BoolIfExists aws:PrincipalIsAWSService false (data-perimeter exemption)', { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } }, 'no'],
    ['StringEquals aws:PrincipalServiceName', { StringEquals: { 'aws:PrincipalServiceName': 'pods.eks.amazonaws.com' } }, 'yes'],
    ['StringNotEquals aws:PrincipalServiceName', { StringNotEquals: { 'aws:PrincipalServiceName': 'pods.eks.amazonaws.com' } }, 'no'],
    // Absent keys: a negated operator holds (IAM documents "the condition is true"), a positive one fails.
    ['StringNotEquals aws:PrincipalOrgID (absent)', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-x' } }, 'yes'],
    ['StringEquals aws:PrincipalOrgID (absent)', { StringEquals: { 'aws:PrincipalOrgID': 'o-x' } }, 'no'],
    // ...IfExists holds on an absent key: this alone still denies the service principal; the
    // data-perimeter pattern exempts services with an extra BoolIfExists on aws:PrincipalIsAWSService.
    ['StringNotEqualsIfExists aws:PrincipalOrgID (absent)', { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': 'o-x' } }, 'yes'],
    [
      'StringNotEqualsIfExists aws:PrincipalOrgID + BoolIfExists aws:PrincipalIsAWSService false',
      { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': 'o-x' }, BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
      'no',
    ],
    ['Null aws:PrincipalOrgID true', { Null: { 'aws:PrincipalOrgID': 'true' } }, 'yes'],
    ['Null aws:PrincipalOrgID false', { Null: { 'aws:PrincipalOrgID': 'false' } }, 'no'],
    ['StringNotEquals aws:PrincipalAccount (absent)', { StringNotEquals: { 'aws:PrincipalAccount': '111122223333' } }, 'yes'],
    ['ArnLikeIfExists aws:PrincipalArn (absent)', { ArnLikeIfExists: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/*' } }, 'yes'],
    ['ArnLike aws:PrincipalArn (absent)', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/*' } }, 'no'],
    ['Null aws:PrincipalArn true', { Null: { 'aws:PrincipalArn': 'true' } }, 'yes'],
    // aws:SourceArn is unknown for Pod Identity (no AWS page documents its value): never provable.
    ['ArnLike aws:SourceArn "*"', { ArnLike: { 'aws:SourceArn': '*' } }, 'unknown'],
    ['ArnNotLike aws:SourceArn "*"', { ArnNotLike: { 'aws:SourceArn': '*' } }, 'unknown'],
  ] as const)('%s', (_name, condition, applies) => {
    expect(deny(condition)).toBe(applies);
  });

  it('still leaves keys it cannot know (e.g. aws:SourceOrgId) unknown', () => {
    expect(deny({ StringNotEquals: { 'aws:SourceOrgId': 'o-x' } })).toBe('unknown');
  });
});
