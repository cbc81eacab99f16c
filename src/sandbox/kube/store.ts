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
  /** Jobs only: the job has started its pods once (so a finished job is not re-run). */
  started?: boolean;
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
  /** The list's items, serialised when it was first requested (the consistent view later pages read). */
  items: string[];
}

export class ObjectStore {
  private rv = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly events: WatchEvent[] = [];
  private readonly snapshots = new Map<string, Snapshot>();
  /** Entries by their controller's uid, kept current on every write (controllers ask constantly). */
  private readonly byOwner = new Map<string, Set<Entry>>();
  private readonly ownerOf = new Map<Entry, string>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(plural: string, namespace: string, name: string): Entry | undefined {
    return this.entries.get(`${plural}/${namespace}/${name}`);
  }

  /** Entries of one resource, sorted by namespace then name (etcd key order). */
  list(plural: string, namespace?: string): Entry[] {
    const out: Entry[] = [];
    for (const e of this.entries.values()) {
      if (e.type.plural === plural && (namespace === undefined || namespaceOf(e.obj) === namespace)) out.push(e);
    }
    return out.sort((a, b) => keyOrder(a.obj, b.obj));
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  /** Store `obj` (stamping a fresh resourceVersion) and record the event. */
  put(entry: Entry, event: 'ADDED' | 'MODIFIED'): void {
    this.rv++;
    metaOf(entry.obj).resourceVersion = String(this.rv);
    const ns = namespaceOf(entry.obj);
    this.entries.set(`${entry.type.plural}/${ns}/${nameOf(entry.obj)}`, entry);
    this.unindex(entry);
    const owner = controllerUid(entry.obj);
    if (owner !== undefined) {
      this.ownerOf.set(entry, owner);
      const set = this.byOwner.get(owner);
      if (set) set.add(entry);
      else this.byOwner.set(owner, new Set([entry]));
    }
    this.record(event, entry);
  }

  /** Entries whose controller ownerReference names `uid`. */
  owned(uid: string): Entry[] {
    return [...(this.byOwner.get(uid) ?? [])];
  }

  private unindex(entry: Entry): void {
    const owner = this.ownerOf.get(entry);
    if (owner === undefined) return;
    this.byOwner.get(owner)?.delete(entry);
    if (this.byOwner.get(owner)?.size === 0) this.byOwner.delete(owner);
    this.ownerOf.delete(entry);
  }

  delete(entry: Entry): void {
    const key = `${entry.type.plural}/${namespaceOf(entry.obj)}/${nameOf(entry.obj)}`;
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.unindex(entry);
    this.rv++;
    // A deleted object is reported at the resourceVersion of its deletion, as watches see it.
    metaOf(entry.obj).resourceVersion = String(this.rv);
    this.record('DELETED', entry);
  }

  private record(type: WatchEvent['type'], entry: Entry): void {
    this.events.push({ type, rv: this.rv, plural: entry.type.plural, namespace: namespaceOf(entry.obj), obj: structuredClone(entry.obj) });
    if (this.events.length > EVENT_HISTORY) this.events.splice(0, this.events.length - EVENT_HISTORY);
  }

  /** Events after resourceVersion `since`; 410 Expired when history no longer reaches back that far. */
  eventsSince(since: number, plural: string, namespace?: string): WatchEvent[] {
    const oldest = this.events[0]?.rv ?? this.rv + 1;
    if (since < this.rv && since + 1 < oldest) {
      throw new KubeError(410, 'Expired', `too old resource version: ${since} (${oldest - 1})`);
    }
    return this.events.filter((e) => e.rv > since && e.plural === plural && (namespace === undefined || e.namespace === namespace));
  }

  /** Remember the rest of a paged list; returns the opaque continue token. */
  saveSnapshot(items: string[], offset: number, rv: number): string {
    const id = crypto.randomUUID();
    this.snapshots.set(id, { rv, items });
    if (this.snapshots.size > SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    return encodeToken(id, offset, rv);
  }

  loadSnapshot(token: string): { items: string[]; offset: number; rv: number } {
    const t = decodeToken(token);
    const snap = this.snapshots.get(t.id);
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
