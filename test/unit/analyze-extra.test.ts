import { describe, expect, it } from 'vitest';
import { customTokenFileFindings, trustShapeFindings, WEBHOOK_TOKEN_FILE, WEBHOOK_WINDOWS_TOKEN_FILE } from '../../src/core/scan/analyze-extra.js';
import { managedBy } from '../../src/core/scan/managed-by.js';
import { parsePolicy } from '../../src/core/policy/index.js';
import type { PodObject } from '../../src/core/scan/snapshot.js';

const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/AAAA';
const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AAAA';
const OTHER = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BBBB';
const cluster = { partition: 'aws', oidcIssuer: ISSUER };
const codes = (statements: object[], fleet: string[] = []) =>
  trustShapeFindings(parsePolicy({ Version: '2012-10-17', Statement: statements as never }), cluster, ['111122223333'], 'r', fleet).map((f) => f.code);
const irsa = (condition: object, principal: object = { Federated: PROVIDER }) => ({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition });

describe('trustShapeFindings', () => {
  it('reports nothing for one exact IRSA statement', () => {
    expect(codes([irsa({ StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/AAAA:sub': 'system:serviceaccount:a:b' } })])).toEqual([]);
  });
  it('reports an OIDC provider mixed with a service, an account or a SAML provider', () => {
    expect(codes([irsa({}, { Federated: PROVIDER, Service: 'ec2.amazonaws.com' })])).toEqual(['TRUST_MIXED_PRINCIPAL']);
    expect(codes([irsa({}, { Federated: PROVIDER, AWS: 'arn:aws:iam::111122223333:root' })])).toEqual(['TRUST_MIXED_PRINCIPAL']);
    // Separate statements are not mixed.
    expect(codes([irsa({}), { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }])).toEqual([]);
  });
  it('reports providers of clusters outside the scan, not of scanned ones', () => {
    expect(codes([irsa({}), irsa({}, { Federated: OTHER })])).toEqual(['TRUST_OTHER_OIDC_PROVIDER']);
    expect(codes([irsa({}), irsa({}, { Federated: OTHER })], ['https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB'])).toEqual([]);
  });
  it('reports set operators on :sub and :aud, and several subjects', () => {
    expect(codes([irsa({ 'ForAllValues:StringEquals': { 'oidc.eks.us-east-1.amazonaws.com/id/AAAA:sub': ['system:serviceaccount:a:b'] } })])).toEqual(['TRUST_SUB_SET_OPERATOR']);
    expect(codes([irsa({ 'ForAnyValue:StringLike': { 'oidc.eks.us-east-1.amazonaws.com/id/AAAA:aud': 'sts.amazonaws.com' } })])).toEqual(['TRUST_SUB_SET_OPERATOR']);
    expect(codes([irsa({ StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/AAAA:sub': ['system:serviceaccount:a:b', 'system:serviceaccount:a:c'] } })])).toEqual(['TRUST_IRSA_MULTIPLE_SUBJECTS']);
  });
});

describe('managedBy', () => {
  const none = { labels: {}, annotations: {}, owners: [] };
  it('tells Crossplane, Argo CD, Flux, eksctl and Helm by their markers', () => {
    expect(managedBy({ ...none, owners: [{ apiVersion: 'pkg.crossplane.io/v1', kind: 'ProviderRevision', name: 'p-1' }] })?.manager).toBe('Crossplane (ProviderRevision p-1)');
    expect(managedBy({ ...none, annotations: { 'argocd.argoproj.io/tracking-id': 'shop:/ServiceAccount:shop/api' } })?.manager).toBe('Argo CD (application shop)');
    expect(managedBy({ ...none, labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } })?.manager).toBe('Flux (apps)');
    expect(managedBy({ ...none, labels: { 'app.kubernetes.io/managed-by': 'eksctl' } })?.manager).toBe('eksctl');
    expect(managedBy({ ...none, annotations: { 'meta.helm.sh/release-name': 'karpenter' } })?.manager).toBe('Helm (release karpenter)');
    expect(managedBy({ ...none, labels: { 'app.kubernetes.io/managed-by': 'kustomize' } })?.manager).toBe('kustomize');
    expect(managedBy({ ...none, annotations: { 'config.kubernetes.io/origin': 'path: base/sa.yaml' } })?.manager).toBe('kustomize');
    expect(managedBy(none)).toBeNull();
    expect(managedBy({ ...none, owners: [{ apiVersion: 'v1', kind: 'Secret', name: 'x' }] })).toBeNull();
  });
});

describe('customTokenFileFindings', () => {
  const pod = (name: string, path: string): PodObject => ({ namespace: 'n', name, serviceAccount: 's', nodeName: null, phase: 'Running', owner: null, identity: 'irsa', labels: {}, tokenFiles: [{ container: 'app', path }] });
  it('ignores the webhook path and groups replicas', () => {
    expect(customTokenFileFindings([pod('a', WEBHOOK_TOKEN_FILE)])).toEqual([]);
    const found = customTokenFileFindings([pod('a', '/custom'), pod('b', '/custom'), pod('c', WEBHOOK_TOKEN_FILE)]);
    expect(found.map((f) => f.message)).toEqual(['running pod n/a and 1 more (container app) sets AWS_WEB_IDENTITY_TOKEN_FILE to /custom, not the path the EKS webhook injects: it was wired by hand']);
  });

  it('takes the webhook\'s Windows path as the default for a pod whose nodeSelector asks for Windows, and only for it', () => {
    const windows = (name: string, path: string): PodObject => ({ ...pod(name, path), windowsNodeSelector: true });
    expect(WEBHOOK_WINDOWS_TOKEN_FILE).toBe('C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token');
    expect(customTokenFileFindings([windows('w', WEBHOOK_WINDOWS_TOKEN_FILE)])).toEqual([]);
    // A Linux pod with the Windows path, or a Windows pod with the Linux path: not what the webhook injects.
    expect(customTokenFileFindings([pod('l', WEBHOOK_WINDOWS_TOKEN_FILE)]).map((f) => f.code)).toEqual(['POD_CUSTOM_TOKEN_FILE']);
    expect(customTokenFileFindings([windows('w', WEBHOOK_TOKEN_FILE)]).map((f) => f.code)).toEqual(['POD_CUSTOM_TOKEN_FILE']);
  });
});
