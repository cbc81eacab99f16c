/**
 * A raw kustomize overlay in a GitOps repository: the IRSA annotation added by a kustomization's
 * commonAnnotations, an inline patch (JSON 6902 or strategic merge) or a JSON 6902 patch file
 * is IRSA (IRSA_ANNOTATION, with its line), so `--fail-on irsa` fails; a patch that removes the
 * annotation is not (adapters/kustomize-irsa.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/adapters/manifests.js';
import { evaluateGate } from '../../src/core/gate.js';
import { analyzeManifests } from '../../src/core/scan/manifests.js';

const now = new Date('2026-12-06T00:00:00Z');
const ARN = 'arn:aws:iam::111122223333:role/cart';

function irsa(text: string, file = 'overlays/prod/kustomization.yaml') {
  const inv = analyzeManifests(parseManifests(text, file), { now });
  return (inv.inputFindings ?? []).filter((f) => f.code === 'IRSA_ANNOTATION').map((f) => ({ line: f.location?.line, message: f.message }));
}

describe('kustomize sources that add the IRSA annotation', () => {
  it('an inline JSON 6902 patch adding the annotation (or annotations holding it): the operation, named by its target', () => {
    const text = [
      'patches:',
      '  - target: {kind: ServiceAccount, name: cart, namespace: shop}',
      '    patch: |-',
      '      - op: add',
      `        path: /metadata/annotations/eks.amazonaws.com~1role-arn`,
      `        value: ${ARN}`,
      '  - target: {kind: ServiceAccount, name: orders}',
      '    patch: |-',
      '      - op: test',
      '        path: /metadata/name',
      '        value: orders',
      '      - op: replace',
      '        path: /metadata/annotations',
      '        value:',
      `          eks.amazonaws.com/role-arn: ${ARN}`,
    ].join('\n');
    expect(irsa(text)).toEqual([
      { line: 4, message: expect.stringContaining('ServiceAccount shop/cart of a kustomize patch uses IRSA') },
      { line: 12, message: expect.stringContaining('ServiceAccount orders of a kustomize patch uses IRSA') },
    ]);
  });

  it('an inline strategic merge patch: the annotation line, named by the patch; patchesStrategicMerge too', () => {
    const smp = (indent: string) => ['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: cart', '  namespace: shop', '  annotations:', `    eks.amazonaws.com/role-arn: ${ARN}`].map((l) => indent + l);
    const text = ['patches:', '  - patch: |-', ...smp('      '), 'patchesStrategicMerge:', '  - |-', ...smp('    '), '  - sa-patch.yaml'].join('\n');
    expect(irsa(text)).toEqual([
      { line: 9, message: expect.stringContaining('ServiceAccount shop/cart of a kustomize patch') },
      { line: 18, message: expect.stringContaining('ServiceAccount shop/cart of a kustomize patch') },
    ]);
  });

  it("commonAnnotations holding it annotates every object: IRSA at its line (also in kustomize's other file names)", () => {
    const text = `resources: [../../base]\ncommonAnnotations:\n  team: shop\n  eks.amazonaws.com/role-arn: ${ARN}\n`;
    for (const file of ['k/kustomization.yaml', 'k/kustomization.yml', 'k/Kustomization']) {
      expect(irsa(text, file)).toEqual([{ line: 4, message: expect.stringContaining("(every object) of a kustomization's commonAnnotations") }]);
    }
    const chart = 'helmCharts:\n  - name: app\n    valuesInline:\n      serviceAccount:\n        annotations:\n          eks.amazonaws.com/role-arn: ' + ARN + '\n';
    expect(irsa(chart, 'k/kustomization.yaml')).toEqual([{ line: 6, message: expect.stringContaining('(rendered by kustomize) of a kustomization uses IRSA') }]);
    // The same mapping in a file kustomize does not read as a kustomization is not one.
    expect(irsa(text, 'k/values.yaml')).toEqual([]);
  });

  it('a JSON 6902 patch file (YAML or JSON) that sets it; one that removes it, or a list that is not a patch, is not IRSA', () => {
    expect(irsa(`- op: add\n  path: /metadata/annotations/eks.amazonaws.com~1role-arn\n  value: ${ARN}\n`, 'overlays/prod/irsa.yaml')).toEqual([
      { line: 1, message: expect.stringContaining('of a JSON patch uses IRSA') },
    ]);
    expect(irsa(`[{"op":"test","path":"/kind","value":"ServiceAccount"},\n {"op":"add","path":"/metadata","value":{"annotations":{"eks.amazonaws.com/role-arn":"${ARN}"}}}]`, 'p.json')).toEqual([
      { line: 2, message: expect.stringContaining('of a JSON patch') },
    ]);
    expect(irsa('- op: copy\n  from: /metadata/labels/arn\n  path: /metadata/annotations/eks.amazonaws.com~1role-arn\n', 'p.yaml')).toHaveLength(1);
    expect(irsa('[{"op":"remove","path":"/metadata/annotations/eks.amazonaws.com~1role-arn"}]', 'remove.json')).toEqual([]);
    expect(irsa('- op: add\n  path: /metadata/annotations/team\n  value: shop\n', 'p.yaml')).toEqual([]);
    expect(irsa('- one\n- two\n', 'list.yaml')).toEqual([]);
  });

  it('a strategic merge patch that deletes its object ($patch: delete) is not IRSA, whatever it holds', () => {
    const text = ['patches:', '  - patch: |-', '      apiVersion: v1', '      kind: ServiceAccount', '      metadata:', '        name: cart', '        annotations:', `          eks.amazonaws.com/role-arn: ${ARN}`, '      $patch: delete'].join('\n');
    expect(irsa(text)).toEqual([]);
  });

  it('a patch that removes the annotation (null in a strategic merge patch) is not IRSA', () => {
    const text = [
      'patches:',
      '  - patch: |-',
      '      apiVersion: v1',
      '      kind: ServiceAccount',
      '      metadata:',
      '        name: cart',
      '        annotations:',
      '          eks.amazonaws.com/role-arn: null',
      '  - patch: |-',
      '      - op: remove',
      '        path: /metadata/annotations/eks.amazonaws.com~1role-arn',
      'commonAnnotations:',
      '  eks.amazonaws.com/role-arn: ~',
    ].join('\n');
    expect(irsa(text)).toEqual([]);
  });

  it('an inline patch whose target (or own kind) is not a ServiceAccount is not IRSA: kustomize applies it to that kind only', () => {
    const op = ['    patch: |-', '      - op: add', '        path: /metadata/annotations/eks.amazonaws.com~1role-arn', `        value: ${ARN}`];
    const text = [
      'patches:',
      '  - target: {kind: Deployment, name: cart}',
      ...op,
      '  - patch: |-',
      '      apiVersion: apps/v1',
      '      kind: Deployment',
      '      metadata:',
      '        name: cart',
      '        annotations:',
      `          eks.amazonaws.com/role-arn: ${ARN}`,
      // kustomize's target kind is a regular expression: one that admits ServiceAccount is IRSA.
      '  - target: {kind: "Service.*", name: orders}',
      ...op,
    ].join('\n');
    expect(irsa(text)).toEqual([{ line: 16, message: expect.stringContaining('ServiceAccount orders of a kustomize patch') }]);
  });

  it('fails --fail-on irsa, naming where', () => {
    const docs = parseManifests(`commonAnnotations:\n  eks.amazonaws.com/role-arn: ${ARN}\n`, 'k/kustomization.yaml');
    const gate = evaluateGate(analyzeManifests(docs, { now }), 'irsa');
    expect(gate.failed).toBe(true);
    expect(gate.reasons).toEqual(["k/kustomization.yaml:2: IRSA annotation in a kustomization's commonAnnotations"]);
  });
});
