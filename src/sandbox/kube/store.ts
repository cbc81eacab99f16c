/**
 * One cluster's object storage (its "etcd"): objects keyed by resource/namespace/name, one
 * resourceVersion counter for every write, a bounded event history for watches, and list
 * snapshots so `limit`/`continue` paging is consistent (later pages show the list as it was).
 *
 * Stored objects are immutable: `put` freezes them, and every change (a controller's status
 * write, a PATCH, a deletion's resourceVersion) stores a new object. So a watch event, a list
 * snapshot or a cached encoding can hold an object itself, never a copy, and a paged list
 * encodes each page when it is asked for, seeing the objects exactly as they were at its first page.
 */
import type { DeflatedPart } from '../gzip-parts.js';
import type { JsonObject } from '../world-types.js';
import type { ResourceType } from './resources.js';
import { controllerUid } from './pods.js';
import { KubeError, badRequest } from './status.js';
import { deepFreeze, isObj } from './util.js';

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
  /** `namespace\0name`: the entry's place in key order (set when first stored; never changes). */
  order?: string;
  /**
   * The list-item JSON of `encodedOf` (this entry's object when it was encoded: stored objects
   * never change, so the bytes stay valid for that object), at `encodedAt` in `encoded` (a shared
   * arena, json-body.ts). A later version of the object is encoded afresh.
   */
  encoded?: Buffer;
  encodedOf?: JsonObject;
  /** The object last encoded for a list without its bytes kept (they are kept the next time). */
  listedOf?: JsonObject;
  encodedAt?: number;
  encodedLength?: number;
  /** Index state (store.ts): the ownerReferences last indexed, their uids and the controller's. */
  indexed?: { refs: unknown; uids: string[]; controller: string | undefined };
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  plural: string;
  namespace: string;
  obj: JsonObject;
}

const EVENT_HISTORY = 2000;
/** Compressed list pages kept per cluster (a cluster of 25,000 generated pods: about 3 MB). */
const PAGE_CACHE_BYTES = 64 * 1024 * 1024;
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
  /** The list's entries and their objects when it was first requested (immutable: the consistent view later pages encode). */
  entries: readonly Entry[];
  items: readonly JsonObject[];
}

export type StoreListener = (event: WatchEvent) => void;

/** Told of every write: the entry, and the uid of its controller (its owner for the controllers). */
export type ChangeHook = (entry: Entry, controller: string | undefined, deleted: boolean) => void;

export class ObjectStore {
  private rv = 0;
  /** Entries by resource, namespace ('' when cluster-scoped) and name. */
  private readonly entries = new Map<string, Map<string, Map<string, Entry>>>();
  /**
   * Entries per resource in key order, kept for `list`: sorted once, then merged with the entries
   * added and removed since (so a write in a large cluster costs a merge, not a sort). An array
   * once returned is never changed (callers may iterate it while they write).
   */
  private readonly sorted = new Map<string, Entry[]>();
  private readonly added = new Map<string, Set<Entry>>();
  private readonly removed = new Map<string, Set<Entry>>();
  private readonly counts = new Map<string, number>();
  private readonly events: WatchEvent[] = [];
  /** Events are kept only after this resourceVersion (history starts once the world is loaded). */
  private historyFrom = 0;
  private recording = true;
  private readonly listeners = new Set<StoreListener>();
  private readonly snapshots = new Map<string, Snapshot>();
  /** compressedPage's pages, the resourceVersion they are of, and their compressed size. */
  private readonly pages = new Map<string, Promise<DeflatedPart>>();
  private readonly pageSizes = new Map<string, number>();
  private pagesRv = -1;
  private pagesBytes = 0;
  /** Entries by any ownerReference uid (the garbage collector's view; controllers ask constantly). */
  private readonly dependents = new Map<string, Set<Entry>>();
  /** Entries by metadata.uid. */
  private readonly byUid = new Map<string, Entry>();
  /** Called after every put and delete (the controllers' dirty tracking, cluster.ts). */
  onChange?: ChangeHook;

  get resourceVersion(): string {
    return String(this.rv);
  }

  /**
   * A list page's items compressed (gzip-parts.ts), kept by `key` (the list, its selectors and
   * the page's range) while the store is at `rv`: at one resourceVersion a list's page holds the
   * same objects, so the same bytes. A page of an older snapshot is compressed and not kept; after
   * any write, the next page compressed drops what was kept; at most PAGE_CACHE_BYTES are kept
   * (the oldest go first; compressions still running are not counted).
   */
  compressedPage(key: string, rv: number, compress: () => Promise<DeflatedPart>): Promise<DeflatedPart> {
    if (rv !== this.rv) return compress();
    if (this.pagesRv !== this.rv) {
      this.pages.clear();
      this.pageSizes.clear();
      this.pagesBytes = 0;
      this.pagesRv = this.rv;
    }
    const kept = this.pages.get(key);
    if (kept !== undefined) return kept;
    const made = compress();
    this.pages.set(key, made);
    made.then(
      (part) => {
        if (this.pages.get(key) !== made) return;
        this.pageSizes.set(key, part.deflated.length);
        this.pagesBytes += part.deflated.length;
        for (const [k, size] of this.pageSizes) {
          if (this.pagesBytes <= PAGE_CACHE_BYTES || k === key) break;
          this.pages.delete(k);
          this.pageSizes.delete(k);
          this.pagesBytes -= size;
        }
      },
      () => {
        if (this.pages.get(key) === made) this.pages.delete(key);
      },
    );
    return made;
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
    return this.entries.get(plural)?.get(namespace)?.get(name);
  }

  /** The stored entry whose metadata.uid is `uid`. */
  byUidGet(uid: string): Entry | undefined {
    return this.byUid.get(uid);
  }

  /** How many objects of one resource are stored. */
  count(plural: string): number {
    return this.counts.get(plural) ?? 0;
  }

  /** Entries of one resource, sorted by namespace then name (etcd key order). Do not mutate the array. */
  list(plural: string, namespace?: string): readonly Entry[] {
    const all = this.sortedList(plural);
    if (namespace === undefined) return all;
    // The namespace's entries are one run of the sorted array.
    const from = lowerBound(all, namespace);
    const to = lowerBound(all, `${namespace}\0\uffff`);
    return all.slice(from, to);
  }

  private sortedList(plural: string): Entry[] {
    const added = this.added.get(plural);
    const removed = this.removed.get(plural);
    let all = this.sorted.get(plural);
    if (all && !added?.size && !removed?.size) return all;
    const pending = (added?.size ?? 0) + (removed?.size ?? 0);
    if (!all || pending > all.length / 4) {
      all = [];
      for (const ns of this.entries.get(plural)?.values() ?? []) for (const e of ns.values()) all.push(e);
      all.sort(byOrder);
    } else {
      // Merge: the kept entries in order, and the added ones sorted among them.
      const fresh = [...(added ?? [])].sort(byOrder);
      const next: Entry[] = [];
      let j = 0;
      for (const e of all) {
        if (removed?.has(e)) continue;
        while (j < fresh.length && byOrder(fresh[j] as Entry, e) < 0) next.push(fresh[j++] as Entry);
        next.push(e);
      }
      while (j < fresh.length) next.push(fresh[j++] as Entry);
      all = next;
    }
    added?.clear();
    removed?.clear();
    this.sorted.set(plural, all);
    return all;
  }

  all(): Entry[] {
    const out: Entry[] = [];
    for (const byNs of this.entries.values()) for (const ns of byNs.values()) for (const e of ns.values()) out.push(e);
    return out;
  }

  /** Store `obj` (stamping a fresh resourceVersion, then freezing it) and record the event. */
  put(entry: Entry, event: 'ADDED' | 'MODIFIED'): void {
    this.rv++;
    const meta = entry.obj.metadata;
    // An object is stored once: a caller handing back a stored (frozen) one gets a copy stamped.
    if (Object.isFrozen(entry.obj) || !isObj(meta) || Object.isFrozen(meta)) entry.obj = { ...entry.obj, metadata: { ...(isObj(meta) ? meta : {}) } };
    (entry.obj.metadata as JsonObject).resourceVersion = String(this.rv);
    deepFreeze(entry.obj);
    // The bytes of an older version are dropped (a list snapshot still holding it encodes it again).
    if (entry.encodedOf !== undefined && entry.encodedOf !== entry.obj) entry.encoded = entry.encodedOf = undefined;
    if (entry.listedOf !== undefined && entry.listedOf !== entry.obj) entry.listedOf = undefined;
    const ns = namespaceOf(entry.obj);
    const name = nameOf(entry.obj);
    const plural = entry.type.plural;
    let byNs = this.entries.get(plural);
    if (!byNs) this.entries.set(plural, (byNs = new Map()));
    let names = byNs.get(ns);
    if (!names) byNs.set(ns, (names = new Map()));
    if (names.get(name) !== entry) {
      if (names.has(name)) throw new Error(`${plural} ${ns}/${name} is stored twice`);
      names.set(name, entry);
      entry.order = `${ns}\0${name}`;
      const uid = (entry.obj.metadata as JsonObject).uid;
      if (typeof uid === 'string') this.byUid.set(uid, entry);
      this.counts.set(plural, this.count(plural) + 1);
      if (this.sorted.has(plural)) {
        const removed = this.removed.get(plural);
        if (removed?.has(entry)) removed.delete(entry);
        else pendingSet(this.added, plural).add(entry);
      }
    }
    // Owner references rarely change (stored objects are immutable: the same array means the same references).
    const refs = (entry.obj.metadata as JsonObject).ownerReferences;
    if (!entry.indexed || entry.indexed.refs !== refs) {
      this.unindex(entry);
      const uids = ownerUids(entry.obj);
      entry.indexed = { refs, uids, controller: controllerUid(entry.obj) };
      for (const uid of uids) {
        const set = this.dependents.get(uid);
        if (set) set.add(entry);
        else this.dependents.set(uid, new Set([entry]));
      }
    }
    this.onChange?.(entry, entry.indexed.controller, false);
    this.record(event, entry);
  }

  /** Entries whose controller ownerReference names `uid`. */
  owned(uid: string): Entry[] {
    const out: Entry[] = [];
    for (const e of this.dependents.get(uid) ?? []) if (e.indexed?.controller === uid) out.push(e);
    return out;
  }

  /** Entries with any ownerReference naming `uid`. */
  dependentsOf(uid: string): Entry[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  private unindex(entry: Entry): void {
    for (const uid of entry.indexed?.uids ?? []) {
      const set = this.dependents.get(uid);
      set?.delete(entry);
      if (set?.size === 0) this.dependents.delete(uid);
    }
    entry.indexed = undefined;
  }

  /** Remove an entry; its object becomes a copy stamped with the deletion's resourceVersion (what watches and the DELETE answer show). */
  delete(entry: Entry): void {
    const plural = entry.type.plural;
    const ns = namespaceOf(entry.obj);
    const names = this.entries.get(plural)?.get(ns);
    const name = nameOf(entry.obj);
    if (names?.get(name) !== entry) return;
    names.delete(name);
    if (names.size === 0) this.entries.get(plural)?.delete(ns);
    this.counts.set(plural, this.count(plural) - 1);
    if (this.sorted.has(plural)) {
      const added = this.added.get(plural);
      if (added?.has(entry)) added.delete(entry);
      else pendingSet(this.removed, plural).add(entry);
    }
    const controller = entry.indexed?.controller;
    const uid = (entry.obj.metadata as JsonObject).uid;
    if (typeof uid === 'string' && this.byUid.get(uid) === entry) this.byUid.delete(uid);
    this.unindex(entry);
    this.rv++;
    // A deleted object is reported at the resourceVersion of its deletion, as watches see it.
    entry.obj = deepFreeze({ ...entry.obj, metadata: { ...metaOf(entry.obj), resourceVersion: String(this.rv) } });
    this.onChange?.(entry, controller, true);
    this.record('DELETED', entry);
  }

  private record(type: WatchEvent['type'], entry: Entry): void {
    if (!this.recording) return;
    // The object is immutable: the event holds it as it is now.
    const event: WatchEvent = { type, rv: this.rv, plural: entry.type.plural, namespace: namespaceOf(entry.obj), obj: entry.obj };
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

  /** Remember the rest of a paged list (its objects, which never change); returns the opaque continue token. */
  saveSnapshot(entries: readonly Entry[], items: readonly JsonObject[], offset: number, rv: number, key: string): string {
    const id = crypto.randomUUID();
    this.snapshots.set(id, { rv, entries, items, key });
    if (this.snapshots.size > SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    return encodeToken(id, offset, rv);
  }

  loadSnapshot(token: string, key: string): { entries: readonly Entry[]; items: readonly JsonObject[]; offset: number; rv: number } {
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
    return { entries: snap.entries, items: snap.items, offset: t.start, rv: snap.rv };
  }
}

function ownerUids(obj: JsonObject): string[] {
  const refs = isObj(obj.metadata) ? obj.metadata.ownerReferences : undefined;
  if (!Array.isArray(refs)) return [];
  return refs.filter(isObj).map((r) => r.uid).filter((u): u is string => typeof u === 'string');
}

/** Key order: namespace, then name (`namespace\0name` compares the same way: \0 sorts first). */
function byOrder(a: Entry, b: Entry): number {
  const x = a.order as string;
  const y = b.order as string;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The first index of `sorted` whose order is not below `order`. */
function lowerBound(sorted: readonly Entry[], order: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as Entry).order as string < order) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pendingSet(m: Map<string, Set<Entry>>, plural: string): Set<Entry> {
  let set = m.get(plural);
  if (!set) m.set(plural, (set = new Set()));
  return set;
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
