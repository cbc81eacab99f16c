/**
 * One cluster's object storage (its "etcd"): objects keyed by resource/namespace/name, one
 * resourceVersion counter for every write, a bounded event history for watches, and list
 * snapshots so `limit`/`continue` paging is consistent (later pages show the list as it was).
 */
import type { JsonObject } from '../world-types.js';
import type { ResourceType } from './resources.js';
import { controllerUid } from './pods.js';
import { KubeError, badRequest } from './status.js';
import { isObj } from './util.js';

export interface Entry {
  type: ResourceType;
  obj: JsonObject;
  /** Pods only: clock time at which the pod's containers are ready (Infinity = unschedulable). */
  readyAt?: number;
  /** Pods only: clock time at which a Terminating pod is gone (its grace period after deletion). */
  goneAt?: number;
  /** Pods only: why the pod never becomes ready (a sandbox option: missing image, stuck workload). */
  stuck?: 'ImagePullBackOff' | 'CrashLoopBackOff';
  /** StatefulSets only: pod templates by revision name (what ControllerRevisions hold). */
  revisions?: Map<string, JsonObject>;
  /** Jobs only: the job has started its pods once (so a finished job is not re-run). */
  started?: boolean;
  /** The object as a list item (JSON), cached for `jsonOf` at `jsonRv` (lists serialise each object once per change). */
  json?: Buffer;
  jsonOf?: JsonObject;
  jsonRv?: unknown;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  plural: string;
  namespace: string;
  obj: JsonObject;
}

const EVENT_HISTORY = 2000;
const SNAPSHOTS = 64;

export function metaOf(obj: JsonObject): JsonObject {
  if (!isObj(obj.metadata)) obj.metadata = {};
  return obj.metadata as JsonObject;
}

export function nameOf(obj: JsonObject): string {
  return String(metaOf(obj).name ?? '');
}

export function namespaceOf(obj: JsonObject): string {
  return String(metaOf(obj).namespace ?? '');
}

interface Snapshot {
  rv: number;
  /** The list the snapshot belongs to (path and selectors): its continue tokens work only there. */
  key: string;
  /** The list's items, serialised when it was first requested (the consistent view later pages read). */
  items: Buffer[];
}

export type StoreListener = (event: WatchEvent) => void;

export class ObjectStore {
  private rv = 0;
  private readonly entries = new Map<string, Entry>();
  /** Entries per resource, and a sorted copy computed on demand (invalidated by adds and deletes). */
  private readonly byPlural = new Map<string, Set<Entry>>();
  private readonly sorted = new Map<string, Entry[]>();
  private readonly events: WatchEvent[] = [];
  /** Events are kept only after this resourceVersion (history starts once the world is loaded). */
  private historyFrom = 0;
  private recording = true;
  private readonly listeners = new Set<StoreListener>();
  private readonly snapshots = new Map<string, Snapshot>();
  /** Entries by their controller's uid, kept current on every write (controllers ask constantly). */
  private readonly byOwner = new Map<string, Set<Entry>>();
  private readonly ownerOf = new Map<Entry, string>();
  /** Entries by any ownerReference uid (the garbage collector's view). */
  private readonly dependents = new Map<string, Set<Entry>>();
  private readonly dependentOf = new Map<Entry, string[]>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Stop (false) or resume (true) keeping watch history; resuming starts history at the current resourceVersion. */
  setRecording(on: boolean): void {
    this.recording = on;
    if (on) this.historyFrom = this.rv;
  }

  /** Called with every event as it happens (open watches). Returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  get(plural: string, namespace: string, name: string): Entry | undefined {
    return this.entries.get(`${plural}/${namespace}/${name}`);
  }

  /** Entries of one resource, sorted by namespace then name (etcd key order). Do not mutate the array. */
  list(plural: string, namespace?: string): readonly Entry[] {
    let all = this.sorted.get(plural);
    if (!all) {
      all = [...(this.byPlural.get(plural) ?? [])].sort((a, b) => keyOrder(a.obj, b.obj));
      this.sorted.set(plural, all);
    }
    return namespace === undefined ? all : all.filter((e) => namespaceOf(e.obj) === namespace);
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  /** Store `obj` (stamping a fresh resourceVersion) and record the event. */
  put(entry: Entry, event: 'ADDED' | 'MODIFIED'): void {
    this.rv++;
    metaOf(entry.obj).resourceVersion = String(this.rv);
    const ns = namespaceOf(entry.obj);
    const key = `${entry.type.plural}/${ns}/${nameOf(entry.obj)}`;
    if (this.entries.get(key) !== entry) {
      this.entries.set(key, entry);
      let set = this.byPlural.get(entry.type.plural);
      if (!set) this.byPlural.set(entry.type.plural, (set = new Set()));
      set.add(entry);
      this.sorted.delete(entry.type.plural);
    }
    this.unindex(entry);
    const owner = controllerUid(entry.obj);
    if (owner !== undefined) {
      this.ownerOf.set(entry, owner);
      const set = this.byOwner.get(owner);
      if (set) set.add(entry);
      else this.byOwner.set(owner, new Set([entry]));
    }
    const refs = ownerUids(entry.obj);
    if (refs.length > 0) {
      this.dependentOf.set(entry, refs);
      for (const uid of refs) {
        const set = this.dependents.get(uid);
        if (set) set.add(entry);
        else this.dependents.set(uid, new Set([entry]));
      }
    }
    this.record(event, entry);
  }

  /** Entries whose controller ownerReference names `uid`. */
  owned(uid: string): Entry[] {
    return [...(this.byOwner.get(uid) ?? [])];
  }

  /** Entries with any ownerReference naming `uid`. */
  dependentsOf(uid: string): Entry[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  private unindex(entry: Entry): void {
    const owner = this.ownerOf.get(entry);
    if (owner !== undefined) {
      this.byOwner.get(owner)?.delete(entry);
      if (this.byOwner.get(owner)?.size === 0) this.byOwner.delete(owner);
      this.ownerOf.delete(entry);
    }
    for (const uid of this.dependentOf.get(entry) ?? []) {
      this.dependents.get(uid)?.delete(entry);
      if (this.dependents.get(uid)?.size === 0) this.dependents.delete(uid);
    }
    this.dependentOf.delete(entry);
  }

  delete(entry: Entry): void {
    const key = `${entry.type.plural}/${namespaceOf(entry.obj)}/${nameOf(entry.obj)}`;
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.byPlural.get(entry.type.plural)?.delete(entry);
    this.sorted.delete(entry.type.plural);
    this.unindex(entry);
    this.rv++;
    // A deleted object is reported at the resourceVersion of its deletion, as watches see it.
    metaOf(entry.obj).resourceVersion = String(this.rv);
    this.record('DELETED', entry);
  }

  private record(type: WatchEvent['type'], entry: Entry): void {
    if (!this.recording) return;
    const event: WatchEvent = { type, rv: this.rv, plural: entry.type.plural, namespace: namespaceOf(entry.obj), obj: structuredClone(entry.obj) };
    this.events.push(event);
    if (this.events.length > EVENT_HISTORY * 2) this.events.splice(0, this.events.length - EVENT_HISTORY);
    for (const l of this.listeners) l(event);
  }

  /** Events after resourceVersion `since`; 410 Expired when history no longer reaches back that far. */
  eventsSince(since: number, plural: string, namespace?: string): WatchEvent[] {
    const oldest = this.events[0]?.rv ?? this.rv + 1;
    const reach = Math.max(this.historyFrom, oldest - 1);
    if (since < this.rv && since < reach) {
      throw new KubeError(410, 'Expired', `too old resource version: ${since} (${reach})`);
    }
    return this.events.filter((e) => e.rv > since && e.plural === plural && (namespace === undefined || e.namespace === namespace));
  }

  /** Remember the rest of a paged list; returns the opaque continue token. */
  saveSnapshot(items: Buffer[], offset: number, rv: number, key: string): string {
    const id = crypto.randomUUID();
    this.snapshots.set(id, { rv, items, key });
    if (this.snapshots.size > SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    return encodeToken(id, offset, rv);
  }

  loadSnapshot(token: string, key: string): { items: Buffer[]; offset: number; rv: number } {
    const t = decodeToken(token);
    const snap = this.snapshots.get(t.id);
    if (snap && snap.key !== key) {
      throw badRequest(`continue key is not valid: the token continues the list ${snap.key}, not ${key}; start a new list without the continue parameter`);
    }
    if (!snap) {
      throw new KubeError(
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
    }
    return { items: snap.items, offset: t.start, rv: snap.rv };
  }
}

function ownerUids(obj: JsonObject): string[] {
  const refs = isObj(obj.metadata) ? obj.metadata.ownerReferences : undefined;
  if (!Array.isArray(refs)) return [];
  return refs.filter(isObj).map((r) => r.uid).filter((u): u is string => typeof u === 'string');
}

function keyOrder(a: JsonObject, b: JsonObject): number {
  const na = namespaceOf(a);
  const nb = namespaceOf(b);
  if (na !== nb) return na < nb ? -1 : 1;
  const ma = nameOf(a);
  const mb = nameOf(b);
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

function encodeToken(id: string, start: number, rv: number): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start, id })).toString('base64url');
}

function decodeToken(token: string): { id: string; start: number } {
  try {
    const t: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isObj(t) && typeof t.id === 'string' && typeof t.start === 'number' && t.v === 'meta.k8s.io/v1') return { id: t.id, start: t.start };
  } catch {
    // fall through to the same error as a structurally wrong token
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}
