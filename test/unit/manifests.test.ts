import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifests, readManifests, STDIN_NAME } from '../../src/adapters/manifests.js';
import { UsageError } from '../../src/core/errors.js';
import type { Inventory, ServiceAccountReport } from '../../src/core/scan/inventory.js';
import { analyzeManifests } from '../../src/core/scan/manifests.js';
import type { ManifestDoc, ManifestObject } from '../../src/core/scan/manifests.js';
import { InventorySchema } from '../../src/render/inventory-schema.js';

const F = 'test/fixtures/manifests';
const NOW = new Date('2025-01-15T12:00:00Z');

async function scan(paths: string[], opts: Partial<Parameters<typeof analyzeManifests>[1]> = {}): Promise<Inventory> {
  return analyzeManifests(await readManifests(paths), { now: NOW, ...opts });
}

function sa(inv: Inventory, ns: string, name: string): ServiceAccountReport {
  const found = inv.serviceAccounts.find((s) => s.namespace === ns && s.name === name);
  if (found === undefined) throw new Error(`no ${ns}/${name} in ${inv.serviceAccounts.map((s) => `${s.namespace}/${s.name}`).join(', ')}`);
  return found;
}

const codes = (s: { findings: { code: string }[] }) => s.findings.map((f) => f.code);
const objects = (docs: ManifestDoc[]) => docs.filter((d): d is ManifestObject => d.type === 'object');

describe('readManifests: files and formats', () => {
  it('reads every document of a multi-document file with the line of the annotation', async () => {
    const inv = await scan([`${F}/repo/apps/api/service-account.yaml`]);
    expect(inv.source).toBe('manifests');
    expect(inv.caller).toBeNull();
    expect(inv.clusters).toEqual([]);
    const api = sa(inv, 'shop', 'api');
    expect(api.location).toEqual({ file: `${F}/repo/apps/api/service-account.yaml`, line: 8 });
    expect(api.cluster).toBe('');
    expect(api.roleArn).toBe('arn:aws:iam::111122223333:role/api');
    expect(api.role).toEqual({ arn: 'arn:aws:iam::111122223333:role/api', account: '111122223333', name: 'api', path: '/', state: 'unreadable', crossAccount: false });
    expect(api.trust).toMatchObject({ irsa: 'unknown', podIdentity: 'unknown', length: null, lengthAfter: null, limit: 2048 });
    expect(api.association.state).toBe('none');
    expect(api.workloads).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'api', pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: [] }]);
    expect(api.annotations.tokenExpiration).toBe('3600');
    expect(api.findings.map((f) => [f.code, f.location?.line])).toEqual([['IRSA_ANNOTATION', 8], ['ANNOTATION_TOKEN_EXPIRATION', 9]]);
    expect(api.findings[0]!.message).toBe(`ServiceAccount shop/api uses IRSA (eks.amazonaws.com/role-arn) at ${F}/repo/apps/api/service-account.yaml:8`);
    expect(api.findings[0]!.fix).toContain('aws_eks_pod_identity_association');
    expect(api.verdict).toBe('ready-with-warnings');
  });

  it('reads the items of a kind: List and flags a Windows nodeSelector in a CronJob', async () => {
    const inv = await scan([`${F}/repo/apps/worker/list.yaml`]);
    const worker = sa(inv, 'batch', 'worker');
    expect(worker.location?.line).toBe(10);
    expect(worker.workloads).toEqual([{ kind: 'CronJob', namespace: 'batch', name: 'nightly', pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: ['windows'] }]);
    const windows = worker.findings.find((f) => f.code === 'WORKLOAD_ON_WINDOWS');
    expect(windows?.location).toEqual({ file: `${F}/repo/apps/worker/list.yaml`, line: 24 });
    expect(worker.findings.find((f) => f.code === 'ARN_WHITESPACE')?.location?.line).toBe(10);
    expect(worker.role.arn).toBe('arn:aws:iam::111122223333:role/worker');
    expect(worker.verdict).toBe('blocked');
  });

  it('says what pins a workload to Windows: a required node affinity is not a nodeSelector', () => {
    const text = [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: w\n  namespace: win\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/w',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\n  namespace: win\nspec:\n  template:\n    spec:\n      serviceAccountName: w\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions:\n                  - { key: beta.kubernetes.io/os, operator: In, values: [windows] }',
    ].join('\n---\n');
    const windows = sa(analyzeManifests(parseManifests(text, 'w.yaml'), { now: NOW }), 'win', 'w').findings.find((f) => f.code === 'WORKLOAD_ON_WINDOWS');
    expect(windows?.message).toContain('(required node affinity kubernetes.io/os In (windows) at w.yaml:21)');
  });

  it('reads typed lists whose items omit kind and apiVersion', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccountList\nitems:\n  - metadata:\n      name: a\n      namespace: x\n      annotations:\n        eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/a\n';
    const [obj] = objects(parseManifests(text, 'list.yaml'));
    expect(obj?.value['kind']).toBe('ServiceAccount');
    expect(obj?.line).toBe(4);
    expect(sa(analyzeManifests([obj!], { now: NOW }), 'x', 'a').location?.line).toBe(8);
  });

  it('reads JSON with line numbers and reports an unusable ARN as blocking', async () => {
    const inv = await scan([`${F}/repo/apps/legacy/sa.json`]);
    const legacy = sa(inv, 'ops', 'legacy');
    expect(legacy.location).toEqual({ file: `${F}/repo/apps/legacy/sa.json`, line: 8 });
    expect(legacy.role.state).toBe('invalid');
    expect(codes(legacy)).toEqual(['ARN_NOT_AN_ARN', 'IRSA_ANNOTATION']);
    expect(legacy.verdict).toBe('blocked');
  });

  it('names the chart template of helm template output and finds hand-wired IRSA variables', async () => {
    const inv = await scan([`${F}/helm-template.yaml`]);
    const payments = sa(inv, 'default', 'payments');
    expect(payments.location?.line).toBe(10);
    expect(payments.findings[0]!.message).toContain('(from payments/templates/serviceaccount.yaml)');
    expect(payments.findings.find((f) => f.code === 'ANNOTATION_AUDIENCE')?.location?.line).toBe(11);
    const wired = payments.findings.find((f) => f.code === 'IRSA_HAND_WIRED');
    expect(wired?.message).toBe(`Deployment default/payments sets AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in container app itself (hand-wired IRSA) at ${F}/helm-template.yaml:28`);
    expect(wired?.location?.line).toBe(28);
    expect(payments.workloads.map((w) => w.name)).toEqual(['payments']);
  });

  it('reads kustomize build output and reports a hand-wired service account nobody annotates', async () => {
    const inv = await scan([`${F}/kustomize-build.yaml`]);
    expect(sa(inv, 'reports', 'prod-reports').workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Job/prod-export']);
    const db = sa(inv, 'reports', 'db');
    expect(db.roleArn).toBe('arn:aws:iam::111122223333:role/db');
    expect(db.location).toEqual({ file: `${F}/kustomize-build.yaml`, line: 39 });
    expect(codes(db)).toEqual(['IRSA_HAND_WIRED']);
    expect(db.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['StatefulSet/prod-db']);
    expect(db.verdict).toBe('ready-with-warnings');
  });

  it('reads stdin for -, once, after the files', async () => {
    const text = readFileSync(`${F}/helm-template.yaml`, 'utf8');
    let reads = 0;
    const docs = await readManifests(['-', `${F}/repo/apps/legacy/sa.json`, '-'], { stdin: async () => (reads++, Buffer.from(text)) });
    expect(reads).toBe(1);
    expect(objects(docs).map((o) => o.file)).toEqual([`${F}/repo/apps/legacy/sa.json`, STDIN_NAME, STDIN_NAME]);
    const inv = analyzeManifests(docs, { now: NOW });
    expect(sa(inv, 'default', 'payments').location).toEqual({ file: STDIN_NAME, line: 10 });
  });

  it('skips YAML that is not a Kubernetes object without a word', () => {
    expect(parseManifests('serviceAccount:\n  create: true\n', 'values.yaml')).toEqual([]);
    expect(parseManifests('', 'empty.yaml')).toEqual([]);
    expect(parseManifests('---\n# Source: x/templates/empty.yaml\n---\n', 'helm.yaml')).toEqual([]);
  });
});

describe('readManifests: directories', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'podid-manifests-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const saYaml = (name: string) => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/${name}\n`;

  it('walks a tree in a stable order, skipping hidden entries, node_modules and other extensions', async () => {
    for (const d of ['b', 'a/deep', 'node_modules/pkg', '.git', '.hidden']) mkdirSync(join(tmp, d), { recursive: true });
    writeFileSync(join(tmp, 'b/z.yml'), saYaml('z'));
    writeFileSync(join(tmp, 'a/deep/y.YAML'), saYaml('y'));
    writeFileSync(join(tmp, 'a/x.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x' } } }));
    writeFileSync(join(tmp, 'a/notes.txt'), saYaml('txt'));
    writeFileSync(join(tmp, 'node_modules/pkg/sa.yaml'), saYaml('dependency'));
    writeFileSync(join(tmp, '.git/sa.yaml'), saYaml('git'));
    writeFileSync(join(tmp, '.hidden/sa.yaml'), saYaml('hidden'));
    writeFileSync(join(tmp, '.podid.yaml'), 'version: 1\n');
    const docs = await readManifests([tmp, join(tmp, 'b/z.yml')]);
    expect(objects(docs).map((o) => o.file)).toEqual([join(tmp, 'a/deep/y.YAML'), join(tmp, 'a/x.json'), join(tmp, 'b/z.yml')]);
  });

  it('scans the fixture repository: annotations found, chart sources and broken files reported', async () => {
    const inv = await scan([`${F}/repo`]);
    expect(inv.serviceAccounts.map((s) => `${s.namespace}/${s.name}`)).toEqual(['batch/worker', 'default/after-broken', 'ops/legacy', 'shop/api']);
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.file, f.location?.line])).toEqual([
      ['MANIFEST_PARSE_ERROR', `${F}/repo/broken/bad.yaml`, 6],
      ['MANIFEST_UNRENDERED_TEMPLATE', `${F}/repo/charts/mychart/templates/serviceaccount.yaml`, 1],
      ['IRSA_ANNOTATION', `${F}/repo/charts/mychart/templates/serviceaccount.yaml`, 7],
    ]);
    expect(inv.inputFindings?.[1]?.fix).toContain('helm template');
    // The document after the broken one is still read.
    expect(sa(inv, 'default', 'after-broken').location).toEqual({ file: `${F}/repo/broken/bad.yaml`, line: 12 });
    expect(inv.summary).toMatchObject({ clusters: 0, serviceAccounts: 4, addons: 0, byVerdict: { blocked: 2, 'ready-with-warnings': 2 } });
    expect(inv.summary.findings.error).toBe(3); // ARN_NOT_AN_ARN, WORKLOAD_ON_WINDOWS, MANIFEST_PARSE_ERROR
    expect(() => InventorySchema.parse(inv)).not.toThrow();
  });

  it('refuses a path that does not exist with a usage error', async () => {
    const err = await readManifests([`${F}/nope`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exit).toBe('usage');
    expect((err as UsageError).message).toBe(`--manifests ${F}/nope: no such file or directory`);
  });
});

describe('parseManifests: problems', () => {
  it('reports a parse error with its line and keeps the other documents', () => {
    const docs = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a: b\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n', 'x.yaml');
    const problem = docs.find((d) => d.type === 'problem');
    expect(problem).toMatchObject({ problem: 'parse-error', file: 'x.yaml', line: 4, detail: 'Nested mappings are not allowed in compact mappings' });
    expect(objects(docs).map((o) => [o.value['kind'], o.line])).toEqual([['ServiceAccount', 6]]);
  });

  it('reports a templated object that parses (quoted placeholders) once per file and skips it', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: "{{ .Release.Name }}"\n  annotations:\n    eks.amazonaws.com/role-arn: "{{ .Values.role }}"\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: "{{ .Release.Name }}"}\n';
    const inv = analyzeManifests(parseManifests(text, 't.yaml'), { now: NOW });
    expect(inv.serviceAccounts).toEqual([]);
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line, f.message])).toEqual([
      // The line of the first template syntax (the name), as for a chart file YAML cannot parse.
      ['MANIFEST_UNRENDERED_TEMPLATE', 4, 't.yaml:4: ServiceAccount {{ .Release.Name }} contains unrendered template syntax ({{ }}); podid cannot tell what it renders to'],
      ['IRSA_ANNOTATION', 6, 'ServiceAccount {{ .Release.Name }} of an unrendered template uses IRSA (eks.amazonaws.com/role-arn) at t.yaml:6'],
    ]);
  });

  it('a List whose items are not a list is a parse error at items, its role-arn lines kept; the next document is still read', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccountList\nitems:\n  a:\n    metadata:\n      name: a\n      annotations:\n        eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/a\n---\napiVersion: v1\nkind: List\nitems: true\n';
    const docs = parseManifests(text, 'l.yaml');
    expect(docs).toEqual([
      { type: 'problem', problem: 'parse-error', file: 'l.yaml', line: 3, template: null, detail: 'ServiceAccountList: items is a mapping, not a list, so Kubernetes refuses the ServiceAccountList', irsaLines: [8], irsaSubject: ['(name not read) of a ServiceAccountList Kubernetes refuses'] },
      { type: 'problem', problem: 'parse-error', file: 'l.yaml', line: 12, template: null, detail: 'List: items is a boolean (true), not a list, so Kubernetes refuses the List', irsaLines: [], irsaSubject: [] },
    ]);
  });

  it('a ServiceAccount whose metadata or annotations are not a mapping is a parse error; a role-arn written in them is IRSA', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  annotations:\n    - "eks.amazonaws.com/role-arn": arn:aws:iam::111122223333:role/a\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: [b]\n';
    const inv = analyzeManifests(parseManifests(text, 's.yaml'), { now: NOW });
    expect(inv.serviceAccounts).toEqual([]);
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line, f.message])).toEqual([
      ['MANIFEST_PARSE_ERROR', 5, 's.yaml:5: ServiceAccount a: metadata.annotations is a list, not a mapping, so Kubernetes refuses the object; podid could not read the object there'],
      ['MANIFEST_PARSE_ERROR', 10, 's.yaml:10: ServiceAccount (unnamed): metadata is a list, not a mapping, so Kubernetes refuses the object; podid could not read the object there'],
      ['IRSA_ANNOTATION', 6, 'ServiceAccount a of an object Kubernetes refuses uses IRSA (eks.amazonaws.com/role-arn) at s.yaml:6'],
    ]);
  });

  it('resolves YAML aliases and merge keys as kubectl does: an aliased IRSA annotation is reported', () => {
    // kubectl (sigs.k8s.io/yaml, go-yaml) resolves anchors, aliases and `<<` merge keys.
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c, annotations: &ann {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/anch"}}\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: merged\n    namespace: s\n    annotations:\n      <<: *ann\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: aliased\n    namespace: s\n    annotations: *ann\n';
    const inv = analyzeManifests(parseManifests(text, 'a.yaml'), { now: NOW });
    expect(inv.serviceAccounts.map((s) => [s.namespace, s.name, s.roleArn, codes(s).includes('IRSA_ANNOTATION')])).toEqual([
      ['s', 'aliased', 'arn:aws:iam::111122223333:role/anch', true],
      ['s', 'merged', 'arn:aws:iam::111122223333:role/anch', true],
    ]);
  });

  it('an alias to an anchor that is not defined (kubectl refuses the file) is a parse error, not nothing', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: s\n  annotations:\n    <<: *ann\n';
    const inv = analyzeManifests(parseManifests(text, 'u.yaml'), { now: NOW });
    expect(inv.serviceAccounts).toEqual([]);
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line])).toEqual([['MANIFEST_PARSE_ERROR', 1]]);
    expect(inv.inputFindings?.[0]?.message).toContain('ann');
  });

  it('does not mistake Go templates in ConfigMap data for a chart', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  rule: "{{ $labels.instance }} is down"\n';
    const inv = analyzeManifests(parseManifests(text, 'alerts.yaml'), { now: NOW });
    expect(inv.inputFindings).toBeUndefined();
  });
});

describe('analyzeManifests: scope and output', () => {
  it('filters by namespace and service account, and reports under --cluster when given', async () => {
    const docs = await readManifests([`${F}/repo/apps`, `${F}/kustomize-build.yaml`]);
    const byNs = analyzeManifests(docs, { now: NOW, namespaces: ['reports'] });
    expect(byNs.serviceAccounts.map((s) => s.name)).toEqual(['db', 'prod-reports']);
    const bySa = analyzeManifests(docs, { now: NOW, serviceAccounts: ['shop/api'], cluster: 'arn:aws:eks:us-east-1:111122223333:cluster/prod', toolVersion: '0.1.0' });
    expect(bySa.serviceAccounts.map((s) => [s.cluster, s.name])).toEqual([['arn:aws:eks:us-east-1:111122223333:cluster/prod', 'api']]);
    expect(bySa.toolVersion).toBe('0.1.0');
    expect(bySa.generatedAt).toBe('2025-01-15T12:00:00.000Z');
  });

  it('lists the same service account defined in two files once per definition, sorted by location', () => {
    const text = (role: string) => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/${role}\n`;
    const docs = [...parseManifests(text('prod'), 'overlays/prod.yaml'), ...parseManifests(text('dev'), 'overlays/dev.yaml')];
    const inv = analyzeManifests(docs, { now: NOW });
    expect(inv.serviceAccounts.map((s) => [s.location?.file, s.role.name])).toEqual([['overlays/dev.yaml', 'dev'], ['overlays/prod.yaml', 'prod']]);
  });

  it('gives pods without serviceAccountName to the default service account', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/d\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n';
    const inv = analyzeManifests(parseManifests(text, 'p.yaml'), { now: NOW });
    expect(sa(inv, 'default', 'default').workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Pod/p']);
  });
});
