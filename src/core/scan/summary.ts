/** The summary counts of an Inventory, the same for live scans, manifests and the allowlist. */
import { VERDICTS, type Inventory, type InventorySummary, type Severity } from './inventory.js';

export function summariseInventory(inv: Pick<Inventory, 'clusters' | 'serviceAccounts' | 'addons' | 'inputFindings'>): InventorySummary {
  const byVerdict = Object.fromEntries(VERDICTS.map((v) => [v, inv.serviceAccounts.filter((s) => s.verdict === v).length])) as InventorySummary['byVerdict'];
  const all = [...inv.clusters, ...inv.serviceAccounts, ...inv.addons].flatMap((x) => x.findings).concat(inv.inputFindings ?? []);
  const count = (s: Severity) => all.filter((f) => f.severity === s).length;
  return {
    clusters: inv.clusters.length,
    serviceAccounts: inv.serviceAccounts.length,
    addons: inv.addons.length,
    byVerdict,
    findings: { error: count('error'), warning: count('warning'), info: count('info') },
  };
}
