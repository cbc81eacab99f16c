/**
 * Manifests that parse as YAML but are not what they seem: Helm chart templates whose `{{ }}`
 * YAML reads as nested mappings (or keeps as strings), and values Kubernetes would refuse.
 * podid must skip such objects with a finding, never invent a service account from them.
 */
import { describe, expect, it, vi } from 'vitest';
import { parseManifests } from '../../src/adapters/manifests.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { analyzeManifests } from '../../src/core/scan/manifests.js';
import type { ManifestObject } from '../../src/core/scan/manifests.js';

const NOW = new Date('2025-01-15T12:00:00Z');
const scan = (text: string, file = 'chart/templates/sa.yaml'): Inventory => analyzeManifests(parseManifests(text, file), { now: NOW });
/** Input findings but the IRSA_ANNOTATION of a templated ServiceAccount (tested on its own below). */
const inputs = (inv: Inventory) => (inv.inputFindings ?? []).filter((f) => f.code !== 'IRSA_ANNOTATION').map((f) => [f.code, f.location?.file, f.location?.line]);
const irsaLines = (inv: Inventory) => (inv.inputFindings ?? []).filter((f) => f.code === 'IRSA_ANNOTATION').map((f) => f.location?.line);
const serialised = (inv: Inventory) => JSON.stringify(inv);

// `helm create`'s serviceaccount.yaml without its `{{- if }}` guard: valid YAML.
const HELM_SA = [
  'apiVersion: v1',
  'kind: ServiceAccount',
  'metadata:',
  '  name: {{ include "chart.serviceAccountName" . }}',
  '  annotations:',
  '    eks.amazonaws.com/role-arn: {{ .Values.serviceAccount.roleArn | quote }}',
  '',
].join('\n');

const saWith = (lines: string[]) => ['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', ...lines, ''].join('\n');

describe('parseManifests: template syntax YAML accepts', () => {
  it('marks the line of an unquoted {{ }} that YAML read as a nested mapping', () => {
    const [obj] = parseManifests(HELM_SA, 'sa.yaml') as ManifestObject[];
    expect(obj?.type).toBe('object');
    expect(obj?.bareTemplateLine).toBe(4);
    expect(obj?.sourceOf(['metadata', 'name'])).toBe('{{ include "chart.serviceAccountName" . }}');
    expect(obj?.source.split('\n')[3]).toBe(HELM_SA.split('\n')[3]);
  });

  it('does not let the YAML library warn on stderr about the mapping keys {{ }} becomes', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      scan(HELM_SA);
      expect(emitWarning).not.toHaveBeenCalled();
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('finds no template in an ordinary object', () => {
    const [obj] = parseManifests(saWith(['  name: api', '  labels: {app: api}']), 'sa.yaml') as ManifestObject[];
    expect(obj?.bareTemplateLine).toBeNull();
    expect(obj?.sourceOf(['metadata', 'labels'])).toBe('{app: api}');
    expect(obj?.sourceOf(['metadata', 'missing'])).toBeUndefined();
  });
});

describe('analyzeManifests: IRSA annotations in templates', () => {
  it('reports the annotation of a templated ServiceAccount as IRSA, at its line, once', () => {
    const inv = scan(HELM_SA);
    expect(irsaLines(inv)).toEqual([6]);
    expect(inv.inputFindings?.find((f) => f.code === 'IRSA_ANNOTATION')?.message).toBe(
      'ServiceAccount {{ include "chart.serviceAccountName" . }} of an unrendered template uses IRSA (eks.amazonaws.com/role-arn) at chart/templates/sa.yaml:6',
    );
  });

  it('finds the annotation in a chart file YAML cannot parse, in every document of it', () => {
    const text = ['{{- if .Values.sa.create -}}', 'apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: {{ .Values.name }}', '  annotations:', '    eks.amazonaws.com/role-arn: {{ .Values.role }}', '{{- end }}', '---', '{{- if .Values.other }}', 'kind: ServiceAccount', 'metadata:', '  annotations:', '    "eks.amazonaws.com/role-arn": x', '  # eks.amazonaws.com/role-arn: in a comment', '{{- end }}', ''].join('\n');
    const inv = scan(text);
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 1]]);
    expect(irsaLines(inv)).toEqual([7, 14]);
  });

  it('reports no IRSA for a template without the annotation', () => {
    expect(irsaLines(scan(saWith(['  name: {{ .Values.name }}'])))).toEqual([]);
  });
});

describe('analyzeManifests: templates that parse', () => {
  it('reports the Helm ServiceAccount as an unrendered template at its first template line, not as an SA', () => {
    const inv = scan(HELM_SA);
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 4]]);
    expect(inv.inputFindings?.[0]?.message).toBe(
      'chart/templates/sa.yaml:4: ServiceAccount {{ include "chart.serviceAccountName" . }} contains unrendered template syntax ({{ }}); podid cannot tell what it renders to',
    );
    expect(serialised(inv)).not.toContain('[object Object]');
    expect(serialised(inv)).not.toContain('ARN_NOT_AN_ARN');
  });

  it('reports an unquoted template in the role annotation alone, at the annotation line', () => {
    const inv = scan(saWith(['  name: api', '  annotations:', '    eks.amazonaws.com/role-arn: {{ .Values.roleArn }}']));
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 6]]);
    expect(inv.inputFindings?.[0]?.message).toContain(': ServiceAccount api contains unrendered template syntax');
  });

  it('reports an unquoted template in the namespace', () => {
    const inv = scan(saWith(['  name: api', '  namespace: {{ .Release.Namespace }}', '  annotations:', '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api']));
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 5]]);
  });

  it('reports Helm template syntax elsewhere in the object (a label), quoted or not', () => {
    const role = '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api';
    const quoted = scan(saWith(['  name: api', '  labels:', '    helm.sh/chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"', '  annotations:', role]));
    expect(quoted.serviceAccounts).toEqual([]);
    expect(inputs(quoted)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 6]]);
    const bare = scan(saWith(['  name: api', '  annotations:', role, '  labels:', '    app: {{ template "name" . }}']));
    expect(inputs(bare)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 8]]);
  });

  it('reports a templated ServiceAccount even when the role annotation is not written in it', () => {
    const inv = scan(saWith(['  name: {{ include "chart.fullname" . }}']));
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 4]]);
  });

  it('reports an unquoted template in a workload and does not attribute it to a service account', () => {
    const text = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: api}',
      'spec:',
      '  template:',
      '    spec:',
      '      serviceAccountName: {{ include "chart.serviceAccountName" . }}',
      '      containers: [{name: app, image: x}]',
      '',
    ].join('\n');
    const inv = scan(text);
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 'chart/templates/sa.yaml', 7]]);
    expect(inv.inputFindings?.[0]?.message).toContain('Deployment api contains unrendered template syntax');
  });

  it('leaves Go templates of other tools alone: a Vault agent annotation on a pod template', () => {
    const text = [
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata:',
      '  name: app',
      '  annotations:',
      '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/app',
      '---',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: app}',
      'spec:',
      '  template:',
      '    metadata:',
      '      annotations:',
      '        vault.hashicorp.com/agent-inject-template-db: |',
      '          {{- with secret "database/creds/app" -}}',
      '          user: {{ .Data.username }}',
      '          {{- end }}',
      '    spec:',
      '      serviceAccountName: app',
      '      containers: [{name: app, image: x, args: ["--format={{.Name}}"]}]',
      '',
    ].join('\n');
    const inv = scan(text, 'apps/app.yaml');
    expect(inv.inputFindings).toBeUndefined();
    expect(inv.serviceAccounts.map((s) => [s.name, s.workloads.map((w) => w.name)])).toEqual([['app', ['app']]]);
  });
});

describe('analyzeManifests: values Kubernetes refuses', () => {
  const base = ['  name: api', '  namespace: shop', '  annotations:', '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api'];

  it('reports a mapping as the role annotation as a parse error with the line, and skips the SA', () => {
    const inv = scan(saWith(['  name: api', '  annotations:', '    eks.amazonaws.com/role-arn: {arn: x}']), 'sa.yaml');
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_PARSE_ERROR', 'sa.yaml', 6]]);
    expect(inv.inputFindings?.[0]?.message).toBe(
      'sa.yaml:6: ServiceAccount api: annotation eks.amazonaws.com/role-arn is a mapping, not a string, so Kubernetes refuses the object (quote the value); podid could not read the object there',
    );
    expect(serialised(inv)).not.toContain('[object Object]');
  });

  it('reports an unquoted number in another IRSA annotation instead of stringifying it', () => {
    const inv = scan(saWith([...base, '    eks.amazonaws.com/token-expiration: 3600']), 'sa.yaml');
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_PARSE_ERROR', 'sa.yaml', 8]]);
    expect(inv.inputFindings?.[0]?.message).toContain('annotation eks.amazonaws.com/token-expiration is a number (3600), not a string');
    expect(inv.summary.findings.error).toBe(1);
  });

  it('reports a list as the name, and a ServiceAccount without a name, rather than inventing `ns/`', () => {
    const list = scan(saWith(['  name: [a, b]', ...base.slice(1)]), 'sa.yaml');
    expect(list.serviceAccounts).toEqual([]);
    expect(list.inputFindings?.[0]?.message).toContain('metadata.name is a list, not a string');
    const unnamed = scan(saWith(base.slice(1)), 'sa.yaml');
    expect(unnamed.serviceAccounts).toEqual([]);
    expect(inputs(unnamed)).toEqual([['MANIFEST_PARSE_ERROR', 'sa.yaml', 3]]);
    expect(unnamed.inputFindings?.[0]?.message).toContain('ServiceAccount (unnamed): no metadata.name');
  });

  it('reports every refused object, not once per file, and still reads the valid ones', () => {
    const bad = saWith(['  name: a', '  annotations:', '    eks.amazonaws.com/audience: true', '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/a']);
    const good = saWith(base);
    const inv = scan(`${bad}---\n${bad}---\n${good}`, 'sa.yaml');
    expect(inputs(inv)).toEqual([['MANIFEST_PARSE_ERROR', 'sa.yaml', 6], ['MANIFEST_PARSE_ERROR', 'sa.yaml', 14]]);
    expect(inv.serviceAccounts.map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/api']);
  });

  it('ignores non-string IRSA annotations on a ServiceAccount without the role annotation', () => {
    const inv = scan(saWith(['  name: plain', '  annotations:', '    eks.amazonaws.com/token-expiration: 3600']));
    expect(inv.inputFindings).toBeUndefined();
    expect(inv.serviceAccounts).toEqual([]);
  });

  it('reports a workload whose serviceAccountName is not a string instead of running it as default', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: 42\n  containers: [{name: c, image: i, env: [{name: AWS_ROLE_ARN, value: arn:aws:iam::111122223333:role/x}]}]\n';
    const inv = scan(text, 'pod.yaml');
    expect(inv.serviceAccounts).toEqual([]);
    expect(inputs(inv)).toEqual([['MANIFEST_PARSE_ERROR', 'pod.yaml', 5]]);
    expect(inv.inputFindings?.[0]?.message).toContain('Pod p: spec.serviceAccountName is a number (42), not a string');
  });
});
