/**
 * Reads a sandbox world file (YAML or JSON; contract: docs/sandbox.md) into a validated World
 * with every default filled in. Every problem becomes one WorldError whose message is a single
 * line `<source>: <path>: <problem>`, so a user can fix the file without reading a stack trace.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { UsageError } from '../core/errors.js';
import type { World } from './world-types.js';
import { worldFileSchema, type WorldFile } from './world-schema.js';

const FIELDS_HINT = 'see docs/sandbox.md for the world-file fields';
/** Enough to fix several typos in one round trip, few enough to stay one readable line. */
const MAX_REPORTED = 3;

export class WorldError extends UsageError {
  constructor(message: string, hint: string = FIELDS_HINT) {
    super('WORLD_INVALID', message, hint);
    this.name = 'WorldError';
  }
}

/** Reads and parses a world file; `name` (default: the path) is how messages name it. */
export async function loadWorldFile(path: string, name = path): Promise<World> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new WorldError(`${name}: cannot read the world file: ${why}`, 'pass an existing YAML or JSON world file with --world (see docs/sandbox.md)');
  }
  return parseWorld(text, name);
}

export function parseWorld(text: string, source: string): World {
  const lines = new LineCounter();
  let data: unknown;
  let parsedDoc: Document | undefined;
  // Merge keys (`<<: *defaults`) let a world share settings between roles or clusters.
  const yamlDoc = (): Document => (parsedDoc ??= parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true }));
  // A JSON world (generated fleets) parses natively, many times faster than as YAML; the YAML
  // document is built only to locate a problem in the file.
  const json = /^\s*\{/.test(text) ? tryJson(text) : undefined;
  if (json !== undefined) {
    data = json;
  } else {
    const doc = yamlDoc();
    const syntax = doc.errors[0];
    if (syntax) {
      const { line, col } = lines.linePos(syntax.pos[0]);
      // yaml's own wording for this one names its API; say what it means for a world file.
      const what = syntax.code === 'MULTIPLE_DOCS' ? 'a second YAML document starts here (---); a world file holds one' : syntax.message.replace(/\s*\n\s*/g, ' ');
      throw new WorldError(`${source}: line ${line}, column ${col}: ${what}`, 'fix the YAML syntax there (values containing ": " or " #" need quotes)');
    }
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      throw new WorldError(`${source}: ${(err as Error).message}`);
    }
  }
  if (data === null || data === undefined) {
    throw new WorldError(`${source}: the world file is empty (it needs at least account, region and clusters)`);
  }

  const parsed = worldFileSchema.safeParse(data, { reportInput: true, error: expectation });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => problemsOf(issue, yamlDoc(), text));
    throw reportProblems(source, problems);
  }
  const world = withDefaults(parsed.data);
  const conflicts = crossCheck(world).map((p) => ({ ...p, offset: locate(yamlDoc(), p.path) }));
  if (conflicts.length > 0) throw reportProblems(source, conflicts);
  return world;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // not strict JSON: the YAML parser reads it and reports any error with its line
  }
}

type Path = (string | number)[];

interface Problem {
  path: Path;
  message: string;
  /** Where in the file the problem is, to report problems top to bottom. */
  offset: number;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false',
  array: 'a list', object: 'an object', record: 'an object',
};

/**
 * The parse-wide messages: what a field expects, in words. Schema leaves override this with
 * their own expectation; problemsOf() then adds what was found.
 */
function expectation(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value')) return 'required field is missing';
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      return iss.origin === 'array' ? `expected at least ${iss.minimum} ${iss.minimum === 1 ? 'entry' : 'entries'}` : `expected a number of at least ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'array' ? `expected at most ${iss.maximum} entries` : `expected a number of at most ${iss.maximum}`;
    default:
      return undefined;
  }
}

function problemsOf(issue: z.core.$ZodIssue, doc: Document, text: string): Problem[] {
  const path: Path = issue.path.map((seg) => (typeof seg === 'number' ? seg : String(seg)));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: issue.message, offset: locate(doc, [...path, key], true) }));
  }
  let message = issue.message;
  const input = (issue as { input?: unknown }).input;
  const showsInput = issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_format'
    || ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number');
  if (showsInput && input !== undefined) {
    message += ` (got ${describe(input)})`;
    // YAML turns unquoted 1.30 into 1.3 and 012345678901 into 12345678901: say so, with the fix.
    if (issue.code === 'invalid_type' && issue.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) {
      const written = sourceText(doc, text, path) ?? String(input);
      const changed = written === String(input) ? '' : `, turning ${written} into ${String(input)}`;
      message += `; quote it as "${written}" (unquoted, YAML reads it as a ${typeof input}${changed})`;
    }
  }
  return [{ path, message, offset: locate(doc, path) }];
}

function describe(value: unknown): string {
  if (value === null) return 'null, an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

/** The YAML node at `path` (or its key), or the nearest ancestor that exists. */
function findNode(doc: Document, path: Path, key = false): { range?: [number, number, number] | null | undefined } | undefined {
  let node: unknown = doc.contents;
  let found = node as { range?: [number, number, number] | null } | undefined;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (key && i === path.length - 1) return pair.key as typeof found;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      break;
    }
    if (node === undefined || node === null) break;
    found = node as typeof found;
  }
  return found;
}

function locate(doc: Document, path: Path, key = false): number {
  return findNode(doc, path, key)?.range?.[0] ?? 0;
}

/** The value as written in the file (`1.30`), when the parsed value (1.3) hides it. */
function sourceText(doc: Document, text: string, path: Path): string | undefined {
  const node = doc.getIn(path, true);
  return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]) : undefined;
}

function reportProblems(source: string, problems: Problem[]): WorldError {
  // Report in file order, so "the first error" is the one nearest the top of the file.
  const sorted = problems.map((p, i) => ({ p, i })).sort((a, b) => a.p.offset - b.p.offset || a.i - b.i).map(({ p }) => p);
  const shown = sorted.slice(0, MAX_REPORTED).map((p) => (p.path.length === 0 ? p.message : `${formatPath(p.path)}: ${p.message}`));
  const more = sorted.length > MAX_REPORTED ? ` (and ${sorted.length - MAX_REPORTED} more)` : '';
  return new WorldError(`${source}: ${shown.join('; ')}${more}`);
}

/** `clusters[1].addons[0].status`; keys that are not identifiers are bracketed (`tags["a.b/c"]`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** Inherit account and region downwards; everything else was defaulted by the schema. */
function withDefaults(file: WorldFile): World {
  const { account, region } = file;
  return {
    ...file,
    clusters: file.clusters.map(({ arn: _arn, endpoint: _endpoint, ...cluster }) => ({
      ...cluster,
      account: cluster.account ?? account,
      region: cluster.region ?? region,
      podIdentityAssociations: cluster.podIdentityAssociations.map(({ associationArn: _arn, ...assoc }) => assoc),
    })),
    iam: {
      ...file.iam,
      roles: file.iam.roles.map(({ arn: _arn, ...role }) => ({ ...role, account: role.account ?? account })),
      openIdConnectProviders: file.iam.openIdConnectProviders.map((p) => ({ ...p, account: p.account ?? account })),
    },
  };
}

interface Conflict {
  path: Path;
  message: string;
}

/** Rules that span entries (uniqueness, the caller's account), checked once defaults are known. */
function crossCheck(world: World): Conflict[] {
  const out: Conflict[] = [];
  /** Records the entry at `entry`; a second entry with the same key is reported at its `field`. */
  const unique = (seen: Map<string, string>, key: string, entry: Path, field: Path, what: string): void => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, formatPath(entry));
    else out.push({ path: [...entry, ...field], message: `duplicate ${what} (first at ${first})` });
  };

  const clusters = new Map<string, string>();
  world.clusters.forEach((c, ci) => {
    const at: Path = ['clusters', ci];
    unique(clusters, `${c.account}/${c.region}/${c.name}`, at, ['name'], `cluster name "${c.name}" in account ${c.account}, region ${c.region}`);
    const addons = new Map<string, string>();
    c.addons.forEach((a, i) => unique(addons, a.name, [...at, 'addons', i], ['name'], `add-on "${a.name}" in cluster ${c.name}`));
    const groups = new Map<string, string>();
    c.nodegroups.forEach((g, i) => unique(groups, g.name, [...at, 'nodegroups', i], ['name'], `node group "${g.name}" in cluster ${c.name}`));
    const profiles = new Map<string, string>();
    c.fargateProfiles.forEach((f, i) => unique(profiles, f.name, [...at, 'fargateProfiles', i], ['name'], `Fargate profile "${f.name}" in cluster ${c.name}`));
    // EKS allows one association per service account; the webhook could not choose between two.
    const accounts = new Map<string, string>();
    const ids = new Map<string, string>();
    c.podIdentityAssociations.forEach((a, i) => {
      const sa = `${a.namespace}/${a.serviceAccount}`;
      unique(accounts, sa, [...at, 'podIdentityAssociations', i], ['serviceAccount'], `association for service account ${sa} in cluster ${c.name}`);
      if (a.associationId !== undefined) unique(ids, a.associationId, [...at, 'podIdentityAssociations', i], ['associationId'], `associationId "${a.associationId}"`);
    });
    const objects = new Map<string, string>();
    c.objects.forEach((o, i) => {
      const meta = o['metadata'] as { name: string; namespace?: string };
      const kind = o['kind'] as string;
      // Compare as the API server would: namespaced objects without a namespace land in `default`.
      const ns = CLUSTER_SCOPED.has(kind) ? '' : (meta.namespace ?? 'default');
      const label = ns === '' ? `${kind} ${meta.name}` : `${kind} ${ns}/${meta.name}`;
      unique(objects, `${kind}/${ns}/${meta.name}`, [...at, 'objects', i], ['metadata', 'name'], `object ${label} in cluster ${c.name}`);
    });
  });

  // IAM role names are unique per account regardless of case and path.
  const roles = new Map<string, string>();
  world.iam.roles.forEach((r, i) => unique(roles, `${r.account}/${r.name.toLowerCase()}`, ['iam', 'roles', i], ['name'], `role name "${r.name}" in account ${r.account}, ignoring case as IAM does`));
  const policies = new Map<string, string>();
  world.iam.policies.forEach((p, i) => unique(policies, p.arn, ['iam', 'policies', i], ['arn'], `policy ${p.arn}`));
  const providers = new Map<string, string>();
  world.iam.openIdConnectProviders.forEach((p, i) => unique(providers, `${p.account}/${p.url}`, ['iam', 'openIdConnectProviders', i], ['url'], `OIDC provider ${p.url} in account ${p.account}`));

  // The top-level account is the caller's account (GetCallerIdentity); a caller ARN elsewhere contradicts it.
  const callerAccount = world.caller?.arn.split(':')[4];
  if (world.caller && callerAccount !== world.account) {
    out.push({ path: ['caller', 'arn'], message: `the caller's account ${callerAccount || '(none)'} differs from the top-level account ${world.account}; the top-level account is the caller's` });
  }
  return out;
}

/** Kinds a world is likely to hold that have no namespace (the kube module owns the full list). */
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition']);
