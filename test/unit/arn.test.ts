import { describe, expect, it } from 'vitest';
import { issuerHostPath, oidcProviderArn, parseClusterArn, parseRoleArn, partitionForRegion, providerIssuer } from '../../src/core/arn.js';
import type { ArnIssueCode } from '../../src/core/arn.js';

describe('parseRoleArn: usable ARNs', () => {
  const cases: { raw: string; region?: string; arn: string; partition: string; account: string; path: string; name: string; findings: ArnIssueCode[] }[] = [
    { raw: 'arn:aws:iam::111122223333:role/cart', arn: 'arn:aws:iam::111122223333:role/cart', partition: 'aws', account: '111122223333', path: '/', name: 'cart', findings: [] },
    { raw: '  arn:aws:iam::111122223333:role/cart\n', arn: 'arn:aws:iam::111122223333:role/cart', partition: 'aws', account: '111122223333', path: '/', name: 'cart', findings: ['ARN_WHITESPACE'] },
    { raw: 'arn:aws:iam::111122223333:role/team/app/cart', arn: 'arn:aws:iam::111122223333:role/team/app/cart', partition: 'aws', account: '111122223333', path: '/team/app/', name: 'cart', findings: ['ARN_HAS_PATH'] },
    { raw: 'arn:aws-us-gov:iam::111122223333:role/KarpenterController', region: 'us-gov-west-1', arn: 'arn:aws-us-gov:iam::111122223333:role/KarpenterController', partition: 'aws-us-gov', account: '111122223333', path: '/', name: 'KarpenterController', findings: [] },
    { raw: 'arn:aws-cn:iam::111122223333:role/x', region: 'cn-north-1', arn: 'arn:aws-cn:iam::111122223333:role/x', partition: 'aws-cn', account: '111122223333', path: '/', name: 'x', findings: [] },
    { raw: 'arn:aws:iam::111122223333:role/a+b=c,d.e@f_g-h', region: 'eu-west-1', arn: 'arn:aws:iam::111122223333:role/a+b=c,d.e@f_g-h', partition: 'aws', account: '111122223333', path: '/', name: 'a+b=c,d.e@f_g-h', findings: [] },
  ];
  it.each(cases)('$raw', (c) => {
    const r = parseRoleArn(c.raw, c.region === undefined ? {} : { region: c.region });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.arn).toEqual({ partition: c.partition, account: c.account, path: c.path, name: c.name, arn: c.arn });
    expect(r.findings.map((f) => f.code)).toEqual(c.findings);
  });

  it('describes a path as informational: pod identity accepts it', () => {
    const r = parseRoleArn('arn:aws:iam::111122223333:role/svc/cart');
    expect(r.ok && r.findings[0]).toMatchObject({ code: 'ARN_HAS_PATH', severity: 'info' });
  });
});

describe('parseRoleArn: unusable ARNs', () => {
  const cases: { raw: string; region?: string; codes: ArnIssueCode[] }[] = [
    { raw: 'cart', codes: ['ARN_NOT_AN_ARN'] },
    { raw: '', codes: ['ARN_NOT_AN_ARN'] },
    { raw: ' cart ', codes: ['ARN_WHITESPACE', 'ARN_NOT_AN_ARN'] },
    { raw: 'ARN:aws:iam::111122223333:role/cart', codes: ['ARN_NOT_AN_ARN'] },
    { raw: 'arn:aws:iam::111122223333', codes: ['ARN_MALFORMED'] },
    { raw: 'arn:AWS:iam::111122223333:role/cart', codes: ['ARN_MALFORMED'] },
    { raw: 'arn:aws:iam::111122223333:user/alice', codes: ['ARN_NOT_A_ROLE'] },
    { raw: 'arn:aws:iam::111122223333:instance-profile/cart', codes: ['ARN_NOT_A_ROLE'] },
    { raw: 'arn:aws:sts::111122223333:assumed-role/cart/session', codes: ['ARN_NOT_A_ROLE'] },
    { raw: 'arn:aws:s3:::bucket/role/x', codes: ['ARN_NOT_A_ROLE'] },
    { raw: 'arn:aws:iam::11112222333:role/cart', codes: ['ARN_BAD_ACCOUNT'] },
    { raw: 'arn:aws:iam::1111222233334:role/cart', codes: ['ARN_BAD_ACCOUNT'] },
    { raw: 'arn:aws:iam::abcdefghijkl:role/cart', codes: ['ARN_BAD_ACCOUNT'] },
    { raw: 'arn:aws:iam:us-east-1:111122223333:role/cart', codes: ['ARN_MALFORMED'] },
    { raw: 'arn:aws:iam::111122223333:role/', codes: ['ARN_BAD_NAME'] },
    { raw: 'arn:aws:iam::111122223333:role/a//cart', codes: ['ARN_BAD_NAME'] },
    { raw: 'arn:aws:iam::111122223333:role/car t', codes: ['ARN_BAD_NAME'] },
    { raw: `arn:aws:iam::111122223333:role/${'x'.repeat(65)}`, codes: ['ARN_BAD_NAME'] },
    { raw: 'arn:aws:iam::111122223333:role/cart', region: 'cn-northwest-1', codes: ['ARN_PARTITION_MISMATCH'] },
    { raw: 'arn:aws:iam::111122223333:role/cart', region: 'us-gov-east-1', codes: ['ARN_PARTITION_MISMATCH'] },
    { raw: 'arn:aws-us-gov:iam::111122223333:role/cart', region: 'us-east-1', codes: ['ARN_PARTITION_MISMATCH'] },
    { raw: 'arn:aws:iam::12:role/', codes: ['ARN_BAD_ACCOUNT', 'ARN_BAD_NAME'] },
  ];
  it.each(cases)('$raw -> $codes', (c) => {
    const r = parseRoleArn(c.raw, c.region === undefined ? {} : { region: c.region });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.code)).toEqual(c.codes);
    expect(r.issues.at(-1)?.severity).toBe('error');
  });

  it('points a session ARN at the role ARN it came from', () => {
    const r = parseRoleArn('arn:aws:sts::111122223333:assumed-role/cart/botocore-session-1');
    expect(!r.ok && r.issues[0]?.hint).toContain('arn:aws:iam::111122223333:role/cart');
  });
});

describe('partitionForRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['ap-southeast-5', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('%s -> %s', (region, partition) => {
    expect(partitionForRegion(region)).toBe(partition);
  });
});

describe('parseClusterArn', () => {
  it('parses a cluster ARN', () => {
    const r = parseClusterArn('arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/prod_1-a');
    expect(r).toEqual({ ok: true, findings: [], arn: { partition: 'aws-us-gov', region: 'us-gov-west-1', account: '111122223333', name: 'prod_1-a', arn: 'arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/prod_1-a' } });
  });
  it.each([
    ['prod', 'ARN_NOT_AN_ARN'],
    ['arn:aws:eks:us-east-1:111122223333:nodegroup/prod/ng/1', 'ARN_NOT_A_CLUSTER'],
    ['arn:aws:iam::111122223333:role/prod', 'ARN_NOT_A_CLUSTER'],
    ['arn:aws:eks:us-east-1:1111:cluster/prod', 'ARN_BAD_ACCOUNT'],
    ['arn:aws:eks:cn-north-1:111122223333:cluster/prod', 'ARN_PARTITION_MISMATCH'],
    ['arn:aws:eks:us-east-1:111122223333:cluster/*', 'ARN_BAD_NAME'],
    ['arn:aws:eks::111122223333:cluster/prod', 'ARN_MALFORMED'],
  ])('%s -> %s', (raw, code) => {
    const r = parseClusterArn(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues.map((i) => i.code)).toEqual([code]);
  });
});

describe('OIDC provider ARNs', () => {
  it.each([
    ['https://oidc.eks.us-east-1.amazonaws.com/id/ABC', 'oidc.eks.us-east-1.amazonaws.com/id/ABC'],
    ['https://oidc.eks.us-east-1.amazonaws.com/id/ABC/', 'oidc.eks.us-east-1.amazonaws.com/id/ABC'],
    ['HTTPS://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC', 'oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC'],
    ['oidc.eks.us-east-1.amazonaws.com/id/ABC', 'oidc.eks.us-east-1.amazonaws.com/id/ABC'],
  ])('issuerHostPath(%s)', (url, hostPath) => {
    expect(issuerHostPath(url)).toBe(hostPath);
  });

  it('builds the provider ARN in the cluster partition and round-trips the issuer', () => {
    const arn = oidcProviderArn('aws-us-gov', '111122223333', 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLE');
    expect(arn).toBe('arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLE');
    expect(providerIssuer(arn)).toBe('oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLE');
    expect(providerIssuer('arn:aws:iam::111122223333:role/x')).toBeUndefined();
  });
});

describe('memoised parses', () => {
  // The parsers remember results by input: a result for one input must never answer another.
  it('keys a role ARN by the region it is checked against, and by the exact text', () => {
    const raw = 'arn:aws:iam::111122223333:role/memo';
    expect(parseRoleArn(raw, { region: 'us-east-1' }).ok).toBe(true);
    const cn = parseRoleArn(raw, { region: 'cn-north-1' });
    expect(cn.ok).toBe(false);
    if (!cn.ok) expect(cn.issues.map((i) => i.code)).toEqual(['ARN_PARTITION_MISMATCH']);
    expect(parseRoleArn(raw).ok).toBe(true);
    const spaced = parseRoleArn(` ${raw}`, { region: 'us-east-1' });
    expect(spaced.ok && spaced.findings.map((f) => f.code)).toEqual(['ARN_WHITESPACE']);
    // Asked again, the same answers.
    expect(parseRoleArn(raw, { region: 'cn-north-1' })).toEqual(cn);
    expect(parseRoleArn(raw, { region: 'us-east-1' })).toEqual(parseRoleArn(raw, { region: 'eu-west-1' }));
  });

  it('answers cluster and provider ARNs the same every time, misses included', () => {
    expect(parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/memo').ok).toBe(true);
    expect(parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/memo ').ok).toBe(true);
    expect(parseClusterArn('arn:aws:eks:us-east-1:111122223333:nodegroup/memo').ok).toBe(false);
    expect(parseClusterArn('arn:aws:eks:us-east-1:111122223333:nodegroup/memo').ok).toBe(false);
    const provider = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/MEMO';
    expect(providerIssuer(provider)).toBe('oidc.eks.us-east-1.amazonaws.com/id/MEMO');
    expect(providerIssuer(provider)).toBe('oidc.eks.us-east-1.amazonaws.com/id/MEMO');
    expect(providerIssuer('arn:aws:iam::111122223333:role/memo')).toBeUndefined();
    expect(providerIssuer('arn:aws:iam::111122223333:role/memo')).toBeUndefined();
  });
});
