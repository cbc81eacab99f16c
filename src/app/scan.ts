/**
 * `scan`: the use case behind `podid scan` (and the first half of `podid migrate`). Takes
 * validated options and ports, emits progress events, returns the Inventory with the allowlist
 * applied and the gate's verdict. Never reads process.env, files or the terminal itself: the
 * CLI builds the ports (AWS, Kubernetes, manifests) and renders the result.
 */
import type { AllowlistEntry } from '../core/config.js';
import type { UsageError } from '../core/errors.js';
import { applyAllowlist, evaluateGate, type FailOn, type GateResult } from '../core/gate.js';
import type { ManifestPort, ScanPorts } from '../core/ports.js';
import { analyzeFleet } from '../core/scan/analyze.js';
import { collectFleet, type CollectTarget } from '../core/scan/collect.js';
import type { Inventory } from '../core/scan/inventory.js';
import type { PlannableInventory } from '../core/scan/planning.js';
import { analyzeManifests } from '../core/scan/manifests.js';
import type { FleetSnapshot, UnscannedCluster } from '../core/scan/snapshot.js';
import { unmatchedListedSelection, unmatchedManifestSelection } from '../core/selection.js';
import type { EventSink } from './events.js';

/** What to judge, common to both sources. */
export interface ScanScopeOptions {
  /** -n; empty: every namespace. */
  readonly namespaces: readonly string[];
  /** --service-account NS/NAME; empty: every service account. */
  readonly serviceAccounts: readonly string[];
  readonly trustPolicyLimit: number;
  readonly now: Date;
  readonly toolVersion: string;
}

export interface ClusterScanOptions extends ScanScopeOptions {
  /** The kubeconfig contexts and the EKS cluster behind each (resolved by the caller). */
  readonly targets: readonly CollectTarget[];
  /** Remote calls in flight at once, fleet-wide. */
  readonly concurrency: number;
  /** Roles to read besides the referenced ones (migrate's --cross-account-source-role). */
  readonly extraRoleArns?: readonly string[];
  /** Selected contexts that name no EKS cluster podid can find: reported, not scanned. */
  readonly unresolved?: readonly UnscannedCluster[];
}

export interface ManifestScanOptions extends ScanScopeOptions {
  readonly paths: readonly string[];
  /** --cluster: the cluster to report the service accounts under. */
  readonly cluster?: string;
}

/** The CI gate: the allowlist to apply and what fails the run. */
export interface GateOptions {
  readonly allowlist: readonly AllowlistEntry[];
  readonly failOn: FailOn;
}

export interface ClusterScanResult {
  readonly snapshot: FleetSnapshot;
  /** With the planning facts the analysis recorded (not serialised; see core/scan/planning.ts). */
  readonly inventory: PlannableInventory;
  /** Some selected clusters could not be scanned (each is a cluster-level error finding): exit 5. */
  readonly partial: boolean;
}

export interface ScanResult {
  /** With the allowlist applied (covered findings marked suppressed). */
  readonly inventory: Inventory;
  readonly gate: GateResult;
}

/**
 * `podid scan`: reads the clusters (read-only) and judges every IRSA service account and add-on,
 * for the report only (no planning facts; the snapshot is not kept). `unmatched`: `-n` or
 * `--service-account` names no namespace or ServiceAccount of the scanned clusters (a typo the
 * gate must not pass on), for the caller to refuse, or to warn about in a partial fleet run.
 */
export async function scanReport(options: ClusterScanOptions, ports: ScanPorts, events: EventSink): Promise<{ inventory: Inventory; partial: boolean; unmatched: UsageError | null }> {
  const snapshot = await collect(options, ports, events);
  const partial = (snapshot.unscanned?.length ?? 0) > 0;
  const unmatched = unmatchedListedSelection(snapshot, options);
  return { inventory: analyzeFleet(snapshot, { now: options.now, toolVersion: options.toolVersion, planning: false }), partial, unmatched };
}

/** Reads the clusters (read-only) and judges every IRSA service account and add-on, for the planner. */
export async function scanClusters(options: ClusterScanOptions, ports: ScanPorts, events: EventSink): Promise<ClusterScanResult> {
  const snapshot = await collect(options, ports, events);
  const inventory = analyzeFleet(snapshot, { now: options.now, toolVersion: options.toolVersion });
  return { snapshot, inventory, partial: (snapshot.unscanned?.length ?? 0) > 0 };
}

async function collect(options: ClusterScanOptions, ports: ScanPorts, events: EventSink): Promise<FleetSnapshot> {
  events({ type: 'scan-started', contexts: [...options.targets.map((t) => t.context), ...(options.unresolved ?? []).map((u) => u.context)] });
  const snapshot = await collectFleet(options.targets, ports, {
    trustPolicyLimit: options.trustPolicyLimit,
    namespaces: options.namespaces,
    serviceAccounts: options.serviceAccounts,
    concurrency: options.concurrency,
    ...(options.extraRoleArns?.length ? { extraRoleArns: options.extraRoleArns } : {}),
    ...(options.unresolved?.length ? { unresolved: options.unresolved } : {}),
    onEvent: events,
  });
  let objects = 0;
  for (const c of snapshot.clusters) objects += c.kube.serviceAccounts.length + c.kube.workloads.length + c.kube.pods.length + c.kube.nodes.length;
  events({ type: 'analysing', clusters: snapshot.clusters.length, objects });
  return snapshot;
}

/**
 * Reads manifests (offline) and reports their IRSA service accounts. `unmatched`: `-n` or
 * `--service-account` names no namespace or ServiceAccount of the files, for the caller to refuse
 * as a live scan's (core/selection.ts).
 */
export async function scanManifests(options: ManifestScanOptions, ports: { manifests: ManifestPort }): Promise<{ inventory: Inventory; unmatched: UsageError | null }> {
  const docs = await ports.manifests.read(options.paths);
  const inventory = analyzeManifests(docs, {
    now: options.now,
    toolVersion: options.toolVersion,
    namespaces: options.namespaces,
    serviceAccounts: options.serviceAccounts,
    trustPolicyLimit: options.trustPolicyLimit,
    ...(options.cluster !== undefined ? { cluster: options.cluster } : {}),
  });
  return { inventory, unmatched: unmatchedManifestSelection(docs, inventory, options) };
}

/** Applies the allowlist and decides the gate (`--fail-on`). */
export function gate(inventory: Inventory, options: GateOptions, now: Date): ScanResult {
  const allowed = applyAllowlist(inventory, options.allowlist, now);
  return { inventory: allowed, gate: evaluateGate(allowed, options.failOn) };
}
