/**
 * Reads Kubernetes manifests for `podid scan --manifests`: files, directories (recursively),
 * and `-` for stdin; multi-document YAML, JSON, `kind: List` (and typed `*List`) items,
 * `helm template` output (its `# Source:` comments name the chart template) and `kustomize
 * build` output. Every object keeps its file and 1-based line, and can tell the line and the
 * text as written of any of its entries, so findings point at the annotation itself and the
 * scan can see template syntax that YAML parsed into something else.
 *
 * A file that does not parse is a ManifestProblem (a finding), never an exception: one broken
 * file must not hide the IRSA annotations of the others. Only a path that does not exist (or
 * cannot be read) is a usage error.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { UsageError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import type { ManifestDoc, ManifestObject, ManifestPath, ManifestProblem } from '../core/scan/manifests.js';
import { compareStrings } from '../core/text.js';
import { decodeText } from './decode-text.js';
import { isKustomizationFile, jsonPatchIrsa, kustomizationIrsa } from './kustomize-irsa.js';

export interface ReadManifestsOptions {
  /** Reads all of stdin; defaults to process.stdin. */
  stdin?: () => Promise<Uint8Array>;
  /** Relative paths are read relative to this (findings name them as given); default: the process's. */
  cwd?: string;
}

export const STDIN_NAME = '<stdin>';
const EXTENSIONS = ['.yaml', '.yml', '.json'];
const SKIPPED_DIRS = new Set(['node_modules']);
const TEMPLATE_RE = /\{\{.*?\}\}/;

export async function readManifests(paths: readonly string[], opts: ReadManifestsOptions = {}): Promise<ManifestDoc[]> {
  // Each path argument with the files it stands for: an argument that yields no object at all
  // (empty stdin, an empty file, a directory with no manifests) is a problem, never "no findings".
  const inputs: { arg: string; files: string[] | 'stdin'; directory: boolean }[] = [];
  const at = (p: string) => (opts.cwd === undefined ? p : resolve(opts.cwd, p));
  for (const p of paths) {
    if (p === '-') {
      inputs.push({ arg: p, files: 'stdin', directory: false });
      continue;
    }
    const info = await stat(at(p)).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError('MANIFESTS_NOT_FOUND', `--manifests ${p}: ${describeFsError(err)}`, 'pass existing files or directories, or - for stdin');
    });
    inputs.push({ arg: p, files: info.isDirectory() ? await walk(p, at) : [p], directory: info.isDirectory() });
  }

  const docs: ManifestDoc[] = [];
  const seen = new Set<string>();
  // Stdin is read once, after the files, however often `-` is given.
  const ordered = [...inputs.filter((i) => i.files !== 'stdin'), ...inputs.filter((i) => i.files === 'stdin').slice(0, 1)];
  for (const input of ordered) {
    const before = docs.length;
    if (input.files === 'stdin') {
      docs.push(...parseManifestBytes(await (opts.stdin ?? readProcessStdin)(), STDIN_NAME));
    } else {
      for (const file of input.files) {
        // A file named directly and again through its directory is read once.
        if (seen.has(file)) continue;
        seen.add(file);
        let bytes: Buffer;
        try {
          bytes = await readFile(at(file));
        } catch (err) {
          throw new UsageError('MANIFESTS_UNREADABLE', `--manifests ${file}: ${describeFsError(err as NodeJS.ErrnoException)}`, 'check the file permissions, or leave it out');
        }
        docs.push(...parseManifestBytes(bytes, file));
      }
    }
    if (docs.length > before) continue;
    const name = input.files === 'stdin' ? STDIN_NAME : input.arg;
    const detail = input.files === 'stdin'
      ? 'standard input held no Kubernetes object (was it empty, or did the command before the pipe fail?)'
      : !input.directory
        ? 'the file holds no Kubernetes object'
        : input.files.length === 0
          ? 'the directory holds no .yaml, .yml or .json file'
          : `none of the ${input.files.length === 1 ? 'file' : `${input.files.length} files`} in the directory holds a Kubernetes object`;
    docs.push({ type: 'problem', problem: 'empty', file: name, line: 0, template: null, detail });
  }
  return docs;
}

/** Decodes and parses one input's bytes; a binary input is one problem. */
export function parseManifestBytes(bytes: Uint8Array, file: string): ManifestDoc[] {
  const decoded = decodeText(bytes);
  if ('binary' in decoded) return [{ type: 'problem', problem: 'not-text', file, line: 1, template: null, detail: decoded.binary }];
  return parseManifests(decoded.text, file);
}

function describeFsError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file or directory';
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  return err.message;
}

/**
 * Every `.yaml`, `.yml` and `.json` file (and kustomize's `Kustomization`) under `dir`, in a stable order (byte order of names at
 * each level, so the output does not depend on the filesystem or locale). Hidden entries
 * (`.git`, `.github`, `.podid.yaml`) and node_modules are skipped; symbolic links to
 * directories are not followed, so a link cycle cannot loop.
 */
async function walk(dir: string, at: (p: string) => string): Promise<string[]> {
  const entries = await readdir(at(dir), { withFileTypes: true });
  entries.sort((a, b) => compareStrings(a.name, b.name));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || SKIPPED_DIRS.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path, at)));
    else if (hasManifestExtension(e.name) && (e.isFile() || (e.isSymbolicLink() && (await stat(at(path)).then((s) => s.isFile(), () => false))))) out.push(path);
  }
  return out;
}

// `Kustomization` (no extension) is one of kustomize's own file names (kustomize-irsa.ts).
const hasManifestExtension = (name: string) => EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext)) || name === 'Kustomization';

async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

// ---- parsing ----------------------------------------------------------------------------------

/** Parses one file's text (YAML stream or JSON) into objects and problems. Pure; exported for tests. */
export function parseManifests(text: string, file: string): ManifestDoc[] {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineCounter = new LineCounter();
  // Duplicate keys are reported (DUPLICATE_KEY errors), never resolved without a word: YAML
  // forbids them, and kubectl keeps one of them silently. kubectl reads -f files through
  // cli-runtime's StreamVisitor (pkg/resource/visitor.go), whose yaml.NewYAMLOrJSONDecoder has no
  // WithStrict(), so each document goes through sigs.k8s.io/yaml's non-strict Unmarshal (go-yaml
  // v2 yaml.Unmarshal, not UnmarshalStrict): "Duplicate fields are case-sensitively ignored in an
  // undefined order" (kubernetes-sigs/yaml yaml.go, YAMLToJSON; go-yaml v2 keeps the last), and
  // the JSON it sends no longer has the duplicate, so not even --validate=strict (server-side
  // field validation) can see it (kubernetes/kubernetes#89303, #125885: the last key applied).
  // An annotation the last key drops would be migrated by nobody: see parseManifests below.
  // `merge: true`: go-yaml (kubectl's parser) applies `<<` merge keys, so podid must see the
  // annotations they bring in; aliases are resolved per document in collectObjects.
  // logLevel 'error': toJS would otherwise warn on stderr about the mapping keys `{{ }}` becomes.
  const documents = parseAllDocuments(source, { lineCounter, merge: true, logLevel: 'error' });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  const out: ManifestDoc[] = [];
  let templateReported: (ManifestProblem & { irsaLines: number[] }) | null = null;

  for (const [index, doc] of documents.entries()) {
    const template = helmSource(doc);
    const firstError = doc.errors[0];
    if (firstError !== undefined) {
      const line = firstError.linePos?.[0].line ?? lineAt(firstError.pos[0]);
      const docText = source.slice(doc.range[0], doc.range[2]);
      // Helm chart sources are rarely valid YAML; say what to do instead of quoting the parser.
      // (Their if/else branches often write a key twice: a template first, a duplicate second.)
      const templateLine = findTemplateLine(docText);
      if (templateLine !== null) {
        const firstLine = lineAt(doc.range[0]);
        // A document that does not parse may end early: read up to where the next one starts.
        const whole = source.slice(doc.range[0], documents[index + 1]?.range[0] ?? source.length);
        const irsaLines = findRoleArnLines(whole).map((l) => firstLine + l - 1);
        // One finding per chart file: every document of it fails for the same reason. The IRSA
        // annotations of every document are kept: the gate must not pass on a templated one.
        if (templateReported !== null) {
          templateReported.irsaLines.push(...irsaLines);
          continue;
        }
        templateReported = { type: 'problem', problem: 'unrendered-template', file, line: firstLine + templateLine - 1, template, detail: 'the file', irsaLines };
        out.push(templateReported);
      } else if (doc.errors.every((e) => e.code === 'DUPLICATE_KEY')) {
        // Valid YAML but for a key written twice in one mapping: an error with the key's line;
        // the document is still read as kubectl reads it (the last key wins), and a role-arn
        // annotation written under a key it drops is IRSA too (the scan reports each line once).
        const firstLineNo = lineAt(doc.range[0]);
        const irsaLines = findRoleArnLines(docText).map((l) => firstLineNo + l - 1);
        out.push({ type: 'problem', problem: 'duplicate-key', file, line, template, detail: duplicateKeyDetail(doc, firstError.pos[0], lineAt), irsaLines, irsaSubject: duplicateKeySubject(doc, irsaLines, lineCounter) });
        if (doc.contents !== null) collectObjects({ source, file, template, lineAt, doc }, doc.contents, out);
      } else {
        // Not YAML: its objects cannot be read, but a line that sets the IRSA annotation is
        // still IRSA (the gate must not pass on it), as in an unrendered template.
        const firstLineNo = lineAt(doc.range[0]);
        const whole = source.slice(doc.range[0], documents[index + 1]?.range[0] ?? source.length);
        const irsaLines = findRoleArnLines(whole).map((l) => firstLineNo + l - 1);
        out.push({ type: 'problem', problem: 'parse-error', file, line, template, detail: firstLine(firstError.message), irsaLines, irsaSubject: irsaLines.map(() => UNPARSED_SUBJECT) });
      }
      continue;
    }
    const contents = doc.contents;
    if (contents === null) continue;
    // Kustomize sources that annotate ServiceAccounts once built (a raw overlay in a GitOps repo).
    const added = isKustomizationFile(file) ? kustomizationIrsa(contents, lineAt) : (jsonPatchIrsa(contents, lineAt) ?? []);
    for (const a of added) out.push({ type: 'irsa-source', file, line: a.line, subject: a.subject });
    collectObjects({ source, file, template, lineAt, doc }, contents, out);
  }
  return out;
}

/** What a DUPLICATE_KEY error at `offset` is about: the key, and the line of its first occurrence. */
function duplicateKeyDetail(doc: Document.Parsed, offset: number, lineAt: (offset: number) => number): string {
  let detail = 'a key appears twice in one mapping';
  visit(doc, {
    Map(_key, map) {
      const at = map.items.findIndex((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      const dup = map.items[at];
      if (dup === undefined || !isScalar(dup.key)) return undefined;
      const name = String(dup.key.value);
      const first = map.items.find((p, i) => i < at && isScalar(p.key) && String(p.key.value) === name);
      const firstAt = first !== undefined && isScalar(first.key) ? first.key.range?.[0] : undefined;
      detail = `key ${JSON.stringify(name)} appears twice in one mapping${firstAt === undefined ? '' : ` (first at line ${lineAt(firstAt)})`}`;
      return visit.BREAK;
    },
  });
  return `${detail}, which YAML forbids (kubectl silently keeps the last one)`;
}

const UNPARSED_SUBJECT = '(name not read) of a document that does not parse';

/**
 * Whose each role-arn line of a document with a duplicate key is: the object (the document, or
 * the List item) that holds the line, named as kubectl reads it (the last key wins).
 */
function duplicateKeySubject(doc: Document.Parsed, lines: readonly number[], lineCounter: LineCounter): string[] {
  const objects: YamlNode[] = [];
  const root = doc.contents;
  if (root !== null) {
    objects.push(root);
    const items = isMap(root) ? root.get('items', true) : undefined;
    if (isSeq(items)) for (const item of items.items) if (isMap(item)) objects.push(item);
  }
  return lines.map((line) => {
    // The innermost object whose text holds the line: a List item rather than the List.
    const holds = (n: YamlNode) => n.range !== undefined && n.range !== null
      && lineCounter.linePos(n.range[0]).line <= line && line <= lineCounter.linePos(Math.max(n.range[0], n.range[1] - 1)).line;
    const holder = objects.filter(holds).at(-1);
    const value: unknown = holder?.toJSON();
    const meta = isJsonObject(value) ? value['metadata'] : undefined;
    const name = isJsonObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : '(unnamed)';
    const ns = isJsonObject(meta) && typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
    return `${ns}${name} of a document with a duplicate key`;
  });
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** The IRSA annotation key as a template writes it (quoted or not), outside comments. */
const ROLE_ARN_KEY_RE = /^\s*(?:-\s+)?["']?eks\.amazonaws\.com\/role-arn["']?\s*:/;

/** 1-based lines (within `text`) that set `eks.amazonaws.com/role-arn`. */
export function findRoleArnLines(text: string): number[] {
  return text.split('\n').flatMap((l, i) => (ROLE_ARN_KEY_RE.test(l) ? [i + 1] : []));
}

/** 1-based line (within `text`) of the first `{{ ... }}`, if any. */
function findTemplateLine(text: string): number | null {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => TEMPLATE_RE.test(l) && !l.trimStart().startsWith('#'));
  return i === -1 ? null : i + 1;
}

/** `helm template` writes `# Source: chart/templates/x.yaml` before each document. */
function helmSource(doc: Document.Parsed): string | null {
  const comments = [doc.commentBefore, doc.contents?.commentBefore].filter((c): c is string => typeof c === 'string');
  for (const c of comments) {
    const m = /^\s*Source:\s*(\S.*?)\s*$/m.exec(c);
    if (m?.[1] !== undefined) return m[1];
  }
  return null;
}

const isK8sObject = (v: unknown): v is Record<string, unknown> => isJsonObject(v) && typeof v['kind'] === 'string' && typeof v['apiVersion'] === 'string';

interface ParseContext {
  /** The whole file's text (BOM removed): node ranges are offsets into it. */
  readonly source: string;
  readonly file: string;
  readonly template: string | null;
  readonly lineAt: (offset: number) => number;
  /** The document the node is in: its anchors resolve the node's aliases. */
  readonly doc: Document.Parsed;
}

/** Most aliases one object may expand (a "billion laughs" document is refused, as kubectl refuses it). */
const MAX_ALIAS_COUNT = 100;

/**
 * Adds the object at `node` (the document root, or a List item) to `out`; List items become
 * objects of their own. Typed lists (`ServiceAccountList` from the API) omit their items' kind
 * and apiVersion, which are then taken from the list.
 */
function collectObjects(ctx: ParseContext, node: YamlNode, out: ManifestDoc[], inherited?: { kind: string; apiVersion: string }): void {
  const textOf = (n: YamlNode) => (n.range === undefined || n.range === null ? undefined : ctx.source.slice(n.range[0], n.range[1]));
  let raw: unknown;
  try {
    // With the document, so that aliases (`*ann`) and `<<` merge keys resolve as kubectl resolves
    // them; without it, an alias reads as `{source: NAME}` and the annotation it holds is lost.
    const unresolved = unresolvedAlias(node, ctx.doc);
    if (unresolved !== null) throw new Error(`alias *${unresolved} refers to no anchor &${unresolved} defined before it in the document`);
    raw = node.toJS(ctx.doc, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // An alias to an anchor not defined before it in the document, a merge of a non-mapping, an
    // alias bomb: kubectl refuses the file. Its role-arn lines are IRSA all the same.
    const firstLineNo = ctx.lineAt(node.range?.[0] ?? 0);
    const irsaLines = findRoleArnLines(textOf(node) ?? '').map((l) => firstLineNo + l - 1);
    out.push({
      type: 'problem',
      problem: 'parse-error',
      file: ctx.file,
      line: firstLineNo,
      template: ctx.template,
      detail: firstLine(error instanceof Error ? error.message : String(error)),
      irsaLines,
      irsaSubject: irsaLines.map(() => UNPARSED_SUBJECT),
    });
    return;
  }
  const value = isJsonObject(raw) && inherited !== undefined && raw['kind'] === undefined ? { apiVersion: inherited.apiVersion, kind: inherited.kind, ...raw } : raw;
  // Not a Kubernetes object (values files, Chart.yaml, CI configs): skipped without a word.
  if (!isK8sObject(value)) return;
  const kind = value['kind'] as string;
  const items = value['items'];
  if (kind.endsWith('List') && items !== undefined && items !== null && !Array.isArray(items)) {
    // `items:` a mapping or a scalar: kubectl refuses the List (its items are a JSON array in
    // every List type), so none of what it holds is applied, and podid reads none of it either.
    // Its role-arn lines are IRSA all the same, as in a document that does not parse.
    const firstLineNo = ctx.lineAt(node.range?.[0] ?? 0);
    const irsaLines = findRoleArnLines(textOf(node) ?? '').map((l) => firstLineNo + l - 1);
    const shape = typeof items === 'object' ? 'a mapping' : `a ${typeof items} (${String(items)})`;
    out.push({
      type: 'problem',
      problem: 'parse-error',
      file: ctx.file,
      line: walkPath(node, ['items'], ctx.lineAt).line,
      template: ctx.template,
      detail: `${kind}: items is ${shape}, not a list, so Kubernetes refuses the ${kind}`,
      irsaLines,
      irsaSubject: irsaLines.map(() => `(name not read) of a ${kind} Kubernetes refuses`),
    });
    return;
  }
  if (kind.endsWith('List') && Array.isArray(items)) {
    const itemKind = kind === 'List' ? undefined : { kind: kind.slice(0, -'List'.length), apiVersion: value['apiVersion'] as string };
    const seq = isMap(node) ? node.get('items', true) : undefined;
    if (isSeq(seq)) {
      seq.items.forEach((item) => {
        if (item !== null && typeof item === 'object' && 'range' in item) collectObjects(ctx, item as YamlNode, out, itemKind);
      });
    }
    return;
  }
  const object: ManifestObject = {
    type: 'object',
    file: ctx.file,
    line: ctx.lineAt(node.range?.[0] ?? 0),
    template: ctx.template,
    value,
    source: textOf(node) ?? '',
    lineOf: (path) => walkPath(node, path, ctx.lineAt).line,
    sourceOf: (path) => {
      const found = walkPath(node, path, ctx.lineAt);
      return found.node === undefined ? undefined : textOf(found.node);
    },
    bareTemplateLine: bareTemplateLine(node, ctx),
  };
  out.push(object);
}

/** The name of the first alias under `root` whose anchor the document does not define before it; null when all resolve. */
function unresolvedAlias(root: YamlNode, doc: Document.Parsed): string | null {
  let name: string | null = null;
  visit(root, (_key, n) => {
    if (isAlias(n) && n.resolve(doc) === undefined) {
      name = n.source;
      return visit.BREAK;
    }
    return undefined;
  });
  return name;
}

/**
 * 1-based line of the first unquoted `{{ ... }}` in the object. YAML reads it as a flow mapping
 * whose first key is another flow mapping, which no hand-written manifest contains: only a
 * template produces it. Quoted template syntax stays a string and is judged by the scan.
 */
function bareTemplateLine(root: YamlNode, ctx: ParseContext): number | null {
  let line: number | null = null;
  visit(root, (_key, n) => {
    if (isCollection(n) && n.flow === true && n.range && ctx.source.startsWith('{{', n.range[0])) {
      line = ctx.lineAt(n.range[0]);
      return visit.BREAK;
    }
    return undefined;
  });
  return line;
}

/**
 * The node at `path` under `root` (undefined when absent) and the line of the entry: a map
 * entry's key line, a sequence item's line; for an absent entry, its nearest ancestor's line.
 */
function walkPath(root: YamlNode, path: ManifestPath, lineAt: (offset: number) => number): { node: YamlNode | undefined; line: number } {
  let node: unknown = root;
  let line = lineAt((root.range ?? [0])[0]);
  for (const key of path) {
    if (typeof key === 'string' && isMap(node)) {
      // A key written twice (MANIFEST_DUPLICATE_KEY) is read as kubectl reads it: the last one.
      const pair = [...node.items].reverse().find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === key);
      if (pair === undefined) return { node: undefined, line };
      const keyNode = pair.key as YamlNode | null;
      const offset = keyNode?.range?.[0] ?? (pair.value as YamlNode | null)?.range?.[0];
      if (offset !== undefined) line = lineAt(offset);
      node = pair.value;
    } else if (typeof key === 'number' && isSeq(node)) {
      const item = node.items[key] as YamlNode | undefined;
      if (item === undefined) return { node: undefined, line };
      const offset = item.range?.[0];
      if (offset !== undefined) line = lineAt(offset);
      node = item;
    } else {
      return { node: undefined, line };
    }
  }
  // `key:` with nothing after it has no value node; the entry is there, its value is null.
  return { node: node !== null && typeof node === 'object' && 'range' in node ? (node as YamlNode) : undefined, line };
}
