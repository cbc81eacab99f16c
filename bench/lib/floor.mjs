// The floor of a fleet scan on this machine (bench/fleet-scan.mjs): the calls the world requires,
// made without any of podid's own work, in a fresh Node process whose CPU time is reported the
// same way as podid's. Run as `node bench/lib/floor.mjs aws|kube` with the sandbox's environment
// (AWS_ENDPOINT_URL, keys, KUBECONFIG) and BENCH_FLOOR_CLUSTERS / BENCH_FLOOR_TOKEN /
// BENCH_FLOOR_SERVERS / BENCH_FLOOR_PATHS / BENCH_FLOOR_WANTED (JSON). Prints one JSON line: { calls, cpuMs, wallMs }.
//   aws:  every DescribePodIdentityAssociation of the world (the associations listed first, not
//         counted) through an EKSClient set up as podid's (adapters/aws.ts clientConfig: standard
//         retries, cached middleware, timeouts), 8 in flight as podid's default --concurrency;
//   kube: every Kubernetes list page a scan reads (limit=500) over one keep-alive agent per
//         server, 8 in flight, the bytes read and dropped (podid parses them besides).
import http from 'node:http';
import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const mode = process.argv[2];

async function inFlight(n, items, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function measure(calls, run) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return run().then(() => {
    const c = process.cpuUsage(c0);
    return { calls, cpuMs: Math.round((c.user + c.system) / 1000), wallMs: Math.round(performance.now() - t0) };
  });
}

if (mode === 'aws') {
  const eks = require('@aws-sdk/client-eks');
  const client = new eks.EKSClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 6,
    retryMode: 'standard',
    cacheMiddleware: true,
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000, throwOnRequestTimeout: true },
  });
  const ids = [];
  for (const clusterName of JSON.parse(process.env.BENCH_FLOOR_CLUSTERS)) {
    for await (const page of eks.paginateListPodIdentityAssociations({ client, pageSize: 100 }, { clusterName })) {
      for (const a of page.associations ?? []) ids.push({ key: `${clusterName}/${a.namespace}/${a.serviceAccount}`, input: { clusterName, associationId: a.associationId } });
    }
  }
  // Only the associations a scan describes: those of IRSA-annotated ServiceAccounts.
  const wanted = new Set(JSON.parse(process.env.BENCH_FLOOR_WANTED));
  const work = ids.filter((a) => wanted.has(a.key)).map((a) => a.input);
  const result = await measure(work.length, () => inFlight(8, work, (a) => client.send(new eks.DescribePodIdentityAssociationCommand(a))));
  console.log(JSON.stringify(result));
} else if (mode === 'kube') {
  const token = process.env.BENCH_FLOOR_TOKEN;
  const servers = JSON.parse(process.env.BENCH_FLOOR_SERVERS);
  const paths = JSON.parse(process.env.BENCH_FLOOR_PATHS);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const get = (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'accept-encoding': 'gzip' } }, (res) => {
          // As podid reads them: large pages come gzipped (as from kube-apiserver), decompressed as they arrive.
          const chunks = [];
          const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip({ chunkSize: 256 * 1024 })) : res;
          body.on('data', (c) => chunks.push(c));
          body.on('end', () => resolve(Buffer.concat(chunks)));
          body.on('error', reject);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  // The continue token is in the page: each list is read page by page, the lists 8 at a time.
  const lists = servers.flatMap((s) => paths.map((p) => `${s}${p}`));
  let calls = 0;
  console.log(
    JSON.stringify(
      await measure(0, () =>
        inFlight(8, lists, async (url) => {
          let cont = '';
          do {
            const body = await get(`${url}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
            calls++;
            const m = /"continue":"([^"]*)"/.exec(body.subarray(0, 512).toString('latin1'));
            cont = m ? m[1] : '';
          } while (cont);
        }),
      ).then((r) => ({ ...r, calls })),
    ),
  );
} else {
  console.error('usage: node bench/lib/floor.mjs aws|kube');
  process.exit(2);
}
