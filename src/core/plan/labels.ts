/**
 * How a plan names its clusters to a reader. A fleet can hold two clusters called `prod` (one
 * per region or account); "association prod shop/cart" twice would leave the reviewer guessing
 * which cluster each change hits. A name is used alone when it is unique in the plan, with its
 * region when that tells the same-named clusters apart, and with region and account otherwise
 * (name, region and account identify an EKS cluster, as its ARN does).
 */
import { parseClusterArn } from '../arn.js';
import type { PlanCluster } from './model.js';

export type ClusterLabeller = (ref: string) => string;

/** A function from a cluster reference (its ARN, or its name) to the label the renderers print. */
export function clusterLabeller(clusters: readonly Pick<PlanCluster, 'arn' | 'name' | 'region' | 'account'>[]): ClusterLabeller {
  const byName = new Map<string, Pick<PlanCluster, 'arn' | 'name' | 'region' | 'account'>[]>();
  for (const c of clusters) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const labels = new Map<string, string>();
  for (const c of clusters) {
    const same = byName.get(c.name) ?? [];
    if (same.length <= 1) labels.set(c.arn, c.name);
    else if (same.filter((o) => o.region === c.region).length === 1) labels.set(c.arn, `${c.name} (${c.region})`);
    else labels.set(c.arn, `${c.name} (${c.region}, ${c.account})`);
  }
  return (ref) => {
    const known = labels.get(ref);
    if (known !== undefined) return known;
    // A bare name names a cluster only when no other cluster of the plan shares it.
    const named = byName.get(ref);
    if (named !== undefined && named.length === 1 && named[0] !== undefined) return labels.get(named[0].arn) ?? ref;
    const parsed = parseClusterArn(ref);
    return parsed.ok ? parsed.arn.name : ref;
  };
}
