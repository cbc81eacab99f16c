/** Types for generate-world.mjs (the generator is plain JavaScript so benchmarks run it without a build). */
export interface GenerateOptions {
  seed?: number;
  clusters?: number;
  serviceAccounts?: number;
  pods?: number;
  roles?: number;
  sharedRoleFraction?: number;
  nodesPerCluster?: number;
  namespacesPerCluster?: number;
  account?: string;
}
export interface GeneratedWorld {
  account: string;
  region: string;
  clusters: { name: string; podIdentityAssociations: { namespace: string; serviceAccount: string; roleArn: string }[]; objects: { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec?: { replicas: number } }[] }[];
  iam: { trustPolicyLimit: number; roles: { name: string }[]; openIdConnectProviders: { url: string }[] };
}
export function generateWorld(options?: GenerateOptions): GeneratedWorld;
export function worldSize(world: GeneratedWorld): { clusters: number; serviceAccounts: number; pods: number; roles: number };
