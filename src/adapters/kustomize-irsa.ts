/**
 * The IRSA annotation as kustomize sources add it, for a gate run over a repository's raw
 * overlays (`podid scan --manifests k8s/` rather than `kustomize build ... | podid scan`): a
 * kustomization's `commonAnnotations` (or the key anywhere else in it, such as a `helmCharts`
 * entry's `valuesInline`), its inline patches (strategic merge or JSON 6902, under
 * `patches`, `patchesStrategicMerge` or `patchesJson6902`), and JSON 6902 patch files (a YAML or
 * JSON list of operations) that a kustomization names by path. None of them is a ServiceAccount
 * the scan can read, yet `kustomize build` turns them into annotated ones: each line that adds
 * the annotation is IRSA (the gate must not pass on it). A patch that removes the annotation (a
 * JSON 6902 `remove`, or `null` in a strategic merge patch) is not. Strategic merge patch files
 * need nothing here: they are ServiceAccount manifests the scan reads as such.
 *
 * Kustomize reference (kubectl.docs.kubernetes.io, "Kustomization" fields: commonAnnotations,
 * patches, patchesStrategicMerge, patchesJson6902); JSON Patch is RFC 6902, its paths RFC 6901
 * (`~1` is `/`).
 */
import { isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import { basename } from 'node:path';

const ROLE_ARN = 'eks.amazonaws.com/role-arn';
const ROLE_ARN_POINTER = '/metadata/annotations/eks.amazonaws.com~1role-arn';

/** kustomize's file names for a kustomization (kustomize's konfig.RecognizedKustomizationFileNames). */
export function isKustomizationFile(file: string): boolean {
  return /^(kustomization\.ya?ml|Kustomization)$/.test(basename(file));
}

/** Where the IRSA annotation is added, and by what (for the finding's subject). */
export interface IrsaAddition {
  readonly line: number;
  readonly subject: string;
}

type LineAt = (offset: number) => number;

/** The additions a kustomization document (its root mapping) makes. */
export function kustomizationIrsa(root: YamlNode, lineAt: LineAt): IrsaAddition[] {
  if (!isMap(root)) return [];
  const out: IrsaAddition[] = [];
  const common = root.get('commonAnnotations', true);
  // commonAnnotations, and anywhere else the kustomization writes the key (a helmCharts entry's
  // valuesInline, say): what kustomize renders from it carries the annotation.
  visitPairs(root, (pair) => {
    if (!keyIs(pair, ROLE_ARN) || !setsValue(pair.value)) return;
    const everyObject = isMap(common) && common.items.includes(pair);
    out.push({ line: lineOfPair(pair, lineAt), subject: everyObject ? "(every object) of a kustomization's commonAnnotations" : '(rendered by kustomize) of a kustomization' });
  });
  for (const field of ['patches', 'patchesStrategicMerge', 'patchesJson6902']) {
    const list = root.get(field, true);
    if (!isSeq(list)) continue;
    for (const item of list.items) {
      // patches / patchesJson6902: {patch: "...", target: {...}} (or {path: FILE}); patchesStrategicMerge: "..." (or a file name).
      const patch = isMap(item) ? item.get('patch', true) : item;
      if (!isScalar(patch) || typeof patch.value !== 'string') continue;
      // One line without the annotation: a patch file's name (read as a file of its own).
      if (!patch.value.includes('\n') && !patch.value.includes('role-arn')) continue;
      // A target of another kind (kustomize reads target.kind as a regular expression): the patch
      // never reaches a ServiceAccount, as a Deployment's role-arn annotation is no IRSA either.
      if (isMap(item) && !kindMayBeServiceAccount(item.get('target', true))) continue;
      const target = isMap(item) ? targetName(item.get('target', true)) : null;
      for (const a of inlinePatchLines(patch, lineAt)) out.push({ line: a.line, subject: `${a.name ?? target ?? '(named by the patch)'} of a kustomize patch` });
    }
  }
  return out;
}

/** The additions a JSON 6902 patch document makes (a list of operations), or null when it is not one. */
export function jsonPatchIrsa(root: YamlNode, lineAt: LineAt, subject = '(named by the kustomization that applies it) of a JSON patch'): IrsaAddition[] | null {
  if (!isSeq(root) || root.items.length === 0) return null;
  if (!root.items.every((op) => isMap(op) && typeof op.get('op') === 'string' && typeof op.get('path') === 'string')) return null;
  return root.items.flatMap((op) => (isMap(op) && operationAddsRoleArn(op.toJSON() as Record<string, unknown>) ? [{ line: lineAt(op.range?.[0] ?? 0), subject }] : []));
}

/** An operation that leaves the annotation set: add, replace, copy or move onto it, or a value that holds it. */
function operationAddsRoleArn(op: Record<string, unknown>): boolean {
  if (!['add', 'replace', 'copy', 'move'].includes(String(op['op']))) return false;
  const path = String(op['path']);
  if (path === ROLE_ARN_POINTER) return op['op'] === 'copy' || op['op'] === 'move' || (op['value'] !== null && op['value'] !== undefined);
  if (op['op'] === 'copy' || op['op'] === 'move') return false;
  const value = op['value'];
  const at = (v: unknown, keys: readonly string[]): unknown => keys.reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), v);
  const annotations = path === '/metadata/annotations' ? value : path === '/metadata' ? at(value, ['annotations']) : path === '' || path === '/' ? at(value, ['metadata', 'annotations']) : undefined;
  const arn = at(annotations, [ROLE_ARN]);
  return arn !== null && arn !== undefined;
}

/**
 * The file lines of an inline patch (a string) that add the annotation. A block scalar (`|`)
 * keeps the patch's lines, one for one, from the line after its header; any other string is
 * pointed at by its own first line.
 */
function inlinePatchLines(patch: YamlNode & { value: unknown }, lineAt: LineAt): { line: number; name: string | null }[] {
  const text = String(patch.value);
  const start = lineAt(patch.range?.[0] ?? 0);
  const block = isScalar(patch) && (patch.type === 'BLOCK_LITERAL' || patch.type === 'BLOCK_FOLDED');
  const toFile = (inner: number) => (block && patch.type === 'BLOCK_LITERAL' ? start + inner : start);
  const found = new Map<number, string | null>();
  for (const doc of parseAllDocuments(text, { logLevel: 'silent' })) {
    const root = doc.contents;
    if (root === null || doc.errors.length > 0) {
      // Not YAML: a line that sets the annotation is IRSA all the same.
      for (const [i, l] of text.split('\n').entries()) if (l.includes(ROLE_ARN) || l.includes('~1role-arn')) found.set(toFile(i + 1), null);
      continue;
    }
    const innerLine = (offset: number) => text.slice(0, offset).split('\n').length;
    const ops = jsonPatchIrsa(root, innerLine);
    if (ops !== null) {
      for (const o of ops) found.set(toFile(o.line), null);
      continue;
    }
    // A strategic merge patch: the annotation set anywhere in it (null deletes it); the object
    // it patches is named in its own metadata.
    if (!kindMayBeServiceAccount(root)) continue;
    // `$patch: delete` removes the object it names: nothing of it is applied.
    const directive = isMap(root) ? root.get('$patch', true) : undefined;
    if (isScalar(directive) && (directive.value as unknown) === 'delete') continue;
    const meta = isMap(root) ? root.get('metadata', true) : undefined;
    const name = isMap(meta) ? targetName(meta) : null;
    visitPairs(root, (pair) => {
      if (keyIs(pair, ROLE_ARN) && setsValue(pair.value)) found.set(toFile(lineOfPair(pair, innerLine)), name);
    });
  }
  return [...found].map(([line, name]) => ({ line, name }));
}

function visitPairs(node: unknown, fn: (pair: Pair) => void): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      fn(pair);
      visitPairs(pair.value, fn);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) visitPairs(item, fn);
  }
}

function keyIs(pair: Pair, key: string): boolean {
  return isScalar(pair.key) && pair.key.value === key;
}

/** A value that sets the annotation: anything but null (`~`, `null`, nothing), which deletes it in a strategic merge patch. */
function setsValue(value: unknown): boolean {
  return !(value === null || value === undefined || (isScalar(value) && value.value === null));
}

function lineOfPair(pair: Pair, lineAt: LineAt): number {
  const key = pair.key as YamlNode | null;
  return lineAt(key?.range?.[0] ?? 0);
}

/**
 * Whether a patch target (or a strategic merge patch, by its own `kind`) may select a
 * ServiceAccount: no kind says nothing; kustomize matches a target's kind as an anchored regular
 * expression (one that does not compile is taken to match).
 */
function kindMayBeServiceAccount(node: unknown): boolean {
  const kind = isMap(node) ? node.get('kind') : undefined;
  if (typeof kind !== 'string' || kind === '') return true;
  try {
    return new RegExp(`^(?:${kind})$`).test('ServiceAccount');
  } catch {
    return true;
  }
}

function targetName(target: unknown): string | null {
  if (!isMap(target)) return null;
  const name = target.get('name');
  const namespace = target.get('namespace');
  if (typeof name !== 'string') return null;
  return typeof namespace === 'string' ? `${namespace}/${name}` : name;
}
