import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PolicyParseError,
  parsePolicy,
  parseStatement,
  policiesEqual,
  policyLength,
  policyToJson,
  serializePolicy,
  statementsEqual,
  withStatements,
} from '../../src/core/policy/index.js';
import type { JsonObject } from '../../src/core/policy/index.js';

// Real published trust policies, copied into test/fixtures/trust-policies/ (each file names its source).
const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { kind: string; policy: JsonObject }) }));

describe('trust policy fixtures', () => {
  it('are all present', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
  });

  it.each(fixtures)('$file round-trips byte for byte', ({ policy }) => {
    const expected = JSON.stringify(policy, null, 2);
    expect(serializePolicy(parsePolicy(policy))).toBe(expected);
    expect(serializePolicy(parsePolicy(expected))).toBe(expected);
    expect(serializePolicy(parsePolicy(JSON.stringify(policy)))).toBe(expected);
  });

  it.each(fixtures)('$file parses from an IAM URL-encoded document', ({ policy }) => {
    expect(serializePolicy(parsePolicy(encodeURIComponent(JSON.stringify(policy))))).toBe(JSON.stringify(policy, null, 2));
  });
});

describe('parsePolicy shapes', () => {
  it('accepts a single statement object and keeps it an object', () => {
    const doc = { Version: '2012-10-17', Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' } };
    const p = parsePolicy(doc);
    expect(p.statementForm).toBe('object');
    expect(p.statements[0]?.principal?.wildcard).toBe(true);
    expect(policyToJson(p)).toEqual(doc);
  });

  it('turns a single statement object into an array once a statement is added', () => {
    const p = parsePolicy({ Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' } });
    const extra = parseStatement({ Effect: 'Deny', Principal: '*', Action: '*' });
    const json = policyToJson(withStatements(p, [...p.statements, extra]));
    expect(Array.isArray(json['Statement'])).toBe(true);
  });

  it('normalises principals, actions, NotPrincipal, NotAction and every condition operator', () => {
    const p = parsePolicy({
      Statement: [
        {
          Sid: '',
          Condition: {
            'ForAnyValue:StringLike': { 'aws:TagKeys': ['a*', 'b'] },
            'ForAllValues:StringEquals': { 'aws:TagKeys': 'x' },
            StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' },
            Null: { 'aws:SourceOrgId': 'false' },
            Bool: { 'aws:SecureTransport': true },
            NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 },
            ArnLike: { 'aws:SourceArn': 'arn:aws:eks:*:111122223333:cluster/*' },
          },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Principal: { AWS: ['arn:aws:iam::111122223333:root', '444455556666'], Service: 'pods.eks.amazonaws.com', CanonicalUser: 'abc' },
          Effect: 'Allow',
        },
        { Effect: 'Deny', NotPrincipal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/x' }, NotAction: 'sts:AssumeRoleWithWebIdentity' },
      ],
    });
    const [a, b] = p.statements;
    expect(a?.sid).toBe('');
    expect(a?.principal?.ids).toEqual({ AWS: ['arn:aws:iam::111122223333:root', '444455556666'], Service: ['pods.eks.amazonaws.com'], Federated: [], CanonicalUser: ['abc'] });
    expect(a?.conditions).toContainEqual({ operator: 'Bool', key: 'aws:SecureTransport', values: ['true'] });
    expect(a?.conditions).toContainEqual({ operator: 'NumericLessThan', key: 'aws:MultiFactorAuthAge', values: ['3600'] });
    expect(a?.conditions).toHaveLength(7);
    expect(b?.sid).toBeUndefined();
    expect(b?.notPrincipal?.ids.Federated).toEqual(['arn:aws:iam::111122223333:oidc-provider/x']);
    expect(b?.action).toEqual({ negated: true, values: ['sts:AssumeRoleWithWebIdentity'] });
    expect(serializePolicy(p)).toContain('"aws:SecureTransport": true');
  });

  it('is not affected when the caller mutates its input object afterwards', () => {
    const doc = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }] };
    const p = parsePolicy(doc);
    doc.Statement[0]!.Action = 'sts:*';
    expect(serializePolicy(p)).toContain('"sts:AssumeRole"');
  });

  const invalid: { name: string; input: unknown; path: string }[] = [
    { name: 'not JSON', input: '{"Statement": [', path: '' },
    { name: 'an array', input: [], path: '' },
    { name: 'unknown top-level key', input: { Statement: [], Foo: 1 }, path: 'Foo' },
    { name: 'bad version', input: { Version: '2020-01-01', Statement: [] }, path: 'Version' },
    { name: 'missing Statement', input: { Version: '2012-10-17' }, path: 'Statement' },
    { name: 'statement not an object', input: { Statement: ['x'] }, path: 'Statement[0]' },
    { name: 'bad effect', input: { Statement: [{ Effect: 'allow', Principal: '*', Action: 'a' }] }, path: 'Statement[0].Effect' },
    { name: 'no principal', input: { Statement: [{ Effect: 'Allow', Action: 'a' }] }, path: 'Statement[0]' },
    { name: 'principal and NotPrincipal', input: { Statement: [{ Effect: 'Allow', Principal: '*', NotPrincipal: '*', Action: 'a' }] }, path: 'Statement[0]' },
    { name: 'unknown principal type', input: { Statement: [{ Effect: 'Allow', Principal: { Users: 'x' }, Action: 'a' }] }, path: 'Statement[0].Principal.Users' },
    { name: 'principal value not a string', input: { Statement: [{ Effect: 'Allow', Principal: { AWS: ['x', 1] }, Action: 'a' }] }, path: 'Statement[0].Principal.AWS[1]' },
    { name: 'no action', input: { Statement: [{ Effect: 'Allow', Principal: '*' }] }, path: 'Statement[0]' },
    { name: 'action not string', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 5 }] }, path: 'Statement[0].Action' },
    { name: 'resource in a trust policy', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'a', Resource: '*' }] }, path: 'Statement[0].Resource' },
    { name: 'unknown statement key', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'a', Extra: 1 }] }, path: 'Statement[0].Extra' },
    { name: 'condition not an object', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'a', Condition: [] }] }, path: 'Statement[0].Condition' },
    { name: 'condition block not an object', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'a', Condition: { StringEquals: 'x' } }] }, path: 'Statement[0].Condition.StringEquals' },
    { name: 'condition value null', input: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'a', Condition: { StringEquals: { k: [null] } } }] }, path: 'Statement[0].Condition.StringEquals.k[0]' },
    { name: 'Sid not a string', input: { Statement: { Sid: 1, Effect: 'Allow', Principal: '*', Action: 'a' } }, path: 'Statement.Sid' },
  ];
  it.each(invalid)('rejects $name with path "$path"', ({ input, path }) => {
    let error: unknown;
    try {
      parsePolicy(input as object);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyParseError);
    expect((error as PolicyParseError).path).toBe(path);
    expect((error as PolicyParseError).code).toBe('POLICY_INVALID');
  });
});

describe('policyLength (IAM counts the document without whitespace)', () => {
  it('ignores whitespace outside strings and keeps it inside', () => {
    const text = '{ "Statement" : [ { "Sid" : "a b",\n\t"Effect": "Allow" } ] }';
    expect(policyLength(text)).toBe('{"Statement":[{"Sid":"a b","Effect":"Allow"}]}'.length);
  });

  it('handles escaped quotes inside strings', () => {
    expect(policyLength('{ "a" : "x\\" y" }')).toBe('{"a":"x\\" y"}'.length);
  });

  it.each(fixtures)('$file: model, object and text agree', ({ policy }) => {
    const compact = JSON.stringify(policy).length;
    expect(policyLength(parsePolicy(policy))).toBe(compact);
    expect(policyLength(policy)).toBe(compact);
    expect(policyLength(JSON.stringify(policy, null, 2))).toBe(compact);
  });

  it('measures the kubeflow fixture over the 2048 default quota, as its issue reports', () => {
    const kubeflow = fixtures.find((f) => f.file.startsWith('kubeflow'));
    expect(policyLength(parsePolicy(kubeflow!.policy))).toBe(2420);
  });
});

describe('statementsEqual', () => {
  const base = {
    Effect: 'Allow',
    Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/oidc.example/id/1' },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { 'oidc.example/id/1:sub': 'system:serviceaccount:a:b', 'oidc.example/id/1:aud': 'sts.amazonaws.com' } },
  };
  const equal: { name: string; other: JsonObject }[] = [
    { name: 'the same statement', other: base },
    { name: 'one-element arrays instead of strings', other: { ...base, Action: ['sts:AssumeRoleWithWebIdentity'], Principal: { Federated: [base.Principal.Federated] } } },
    {
      name: 'keys in another order',
      other: { Condition: { StringEquals: { 'oidc.example/id/1:aud': 'sts.amazonaws.com', 'oidc.example/id/1:sub': 'system:serviceaccount:a:b' } }, Action: base.Action, Principal: base.Principal, Effect: 'Allow' },
    },
    { name: 'an action in another case', other: { ...base, Action: 'STS:assumerolewithwebidentity' } },
    { name: 'a condition key in another case', other: { ...base, Condition: { StringEquals: { 'OIDC.example/id/1:SUB': 'system:serviceaccount:a:b', 'oidc.example/id/1:aud': 'sts.amazonaws.com' } } } },
    { name: 'an empty Sid', other: { Sid: '', ...base } },
  ];
  it.each(equal)('equal: $name', ({ other }) => {
    expect(statementsEqual(parseStatement(base), parseStatement(other))).toBe(true);
  });

  const different: { name: string; other: JsonObject }[] = [
    { name: 'a value in another case', other: { ...base, Condition: { StringEquals: { 'oidc.example/id/1:sub': 'system:serviceaccount:a:B', 'oidc.example/id/1:aud': 'sts.amazonaws.com' } } } },
    { name: 'another operator', other: { ...base, Condition: { StringLike: base.Condition.StringEquals } } },
    { name: 'another effect', other: { ...base, Effect: 'Deny' } },
    { name: 'NotAction', other: { Effect: 'Allow', Principal: base.Principal, NotAction: base.Action, Condition: base.Condition } },
    { name: 'an extra action', other: { ...base, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'] } },
    { name: 'a Sid', other: { Sid: 'X', ...base } },
  ];
  it.each(different)('different: $name', ({ other }) => {
    expect(statementsEqual(parseStatement(base), parseStatement(other))).toBe(false);
  });

  it('can ignore Sid', () => {
    expect(statementsEqual(parseStatement(base), parseStatement({ Sid: 'X', ...base }), { ignoreSid: true })).toBe(true);
  });

  it('policiesEqual ignores statement order and serialisation style', () => {
    const a = parsePolicy({ Version: '2012-10-17', Statement: [base, { Effect: 'Deny', Principal: '*', Action: 'sts:TagSession' }] });
    const b = parsePolicy({ Statement: [{ Action: ['sts:tagsession'], Effect: 'Deny', Principal: '*' }, { ...base, Action: [base.Action] }], Version: '2012-10-17' });
    expect(policiesEqual(a, b)).toBe(true);
    expect(policiesEqual(a, parsePolicy({ Version: '2012-10-17', Statement: [base] }))).toBe(false);
  });
});
