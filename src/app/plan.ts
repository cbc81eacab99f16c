/**
 * `plan`: the use case behind `podid migrate --dry-run`. Scans the clusters (read-only), then
 * plans the migration (pure). Takes validated options and ports, emits progress events, returns
 * the plan; rendering it, saving it and exporting it are the caller's (the CLI's) business.
 */
import type { MigrationPlan, PlanOptions } from '../core/plan/model.js';
import { planMigration } from '../core/plan/plan.js';
import type { ScanPorts } from '../core/ports.js';
import type { EventSink } from './events.js';
import type { PlannableInventory } from '../core/scan/planning.js';
import { scanClusters, type ClusterScanOptions } from './scan.js';

export interface PlanRunOptions {
  readonly scan: ClusterScanOptions;
  readonly installAgent: boolean;
  readonly restart: boolean;
  readonly maxConcurrentRollouts: number;
  /** --cross-account-source-role, validated; read by the scan like any referenced role. */
  readonly crossAccountSourceRole: string | null;
  /** --role: only service accounts using these roles; empty: all. */
  readonly roles: readonly string[];
}

export interface PlanResult {
  readonly inventory: PlannableInventory;
  /** Some selected clusters could not be scanned: exit 5. */
  readonly partial: boolean;
  readonly plan: MigrationPlan;
}

export async function plan(options: PlanRunOptions, ports: ScanPorts, events: EventSink): Promise<PlanResult> {
  // The planner checks the source role's trust policy, so the scan must read it.
  const extraRoleArns = [...(options.scan.extraRoleArns ?? []), ...(options.crossAccountSourceRole === null ? [] : [options.crossAccountSourceRole])];
  const scanned = await scanForPlanning({ ...options.scan, extraRoleArns }, ports, events);
  const planOptions: PlanOptions = {
    installAgent: options.installAgent,
    restart: options.restart,
    maxConcurrentRollouts: options.maxConcurrentRollouts,
    crossAccountSourceRole: options.crossAccountSourceRole,
    selection: {
      contexts: scanned.contexts,
      namespaces: [...options.scan.namespaces],
      serviceAccounts: [...options.scan.serviceAccounts],
      roles: [...options.roles],
    },
    trustPolicyLimit: scanned.trustPolicyLimit,
  };
  events({ type: 'planning', serviceAccounts: scanned.inventory.serviceAccounts.length, addons: scanned.inventory.addons.length });
  // The Inventory is the planner's only input (a cluster a fleet run could not scan has nothing to plan: the planner skips it).
  const migrationPlan = planMigration({ inventory: scanned.inventory, options: planOptions, now: options.scan.now, toolVersion: options.scan.toolVersion });
  return { inventory: scanned.inventory, partial: scanned.partial, plan: migrationPlan };
}

/**
 * The scan, and of its snapshot only what planning reads: the snapshot (a fleet's every pod)
 * is not kept while the plan is made and rendered.
 */
async function scanForPlanning(options: ClusterScanOptions, ports: ScanPorts, events: EventSink): Promise<{ inventory: PlannableInventory; partial: boolean; contexts: string[]; trustPolicyLimit: number }> {
  const { snapshot, inventory, partial } = await scanClusters(options, ports, events);
  return { inventory, partial, contexts: snapshot.clusters.map((c) => c.context).filter((c): c is string => c !== null), trustPolicyLimit: snapshot.trustPolicyLimit };
}
