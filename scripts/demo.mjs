// `npm run demo`: start `podid sandbox` on examples/world.yaml (no AWS account needed) and show
// the fleet it serves through unmodified AWS SDK and Kubernetes clients.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sandbox = spawn(process.execPath, ['bin/podid.js', 'sandbox', '--world', 'examples/world.yaml', '--quiet'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ready = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('sandbox did not print its ready line within 20s')), 20_000);
  sandbox.once('exit', (code) => reject(new Error(`sandbox exited early with code ${code}`)));
  createInterface({ input: sandbox.stdout }).on('line', (line) => {
    if (line.startsWith('ready ')) { clearTimeout(timer); resolve(Object.fromEntries(line.slice(6).split(' ').map((kv) => kv.split('=')))); }
  });
});

try {
  console.log(`$ podid sandbox --world examples/world.yaml\nready endpoint=${ready.endpoint}\n`);
  const { EKSClient, ListClustersCommand, DescribeClusterCommand, ListAddonsCommand } = await import('@aws-sdk/client-eks');
  const k8s = await import('@kubernetes/client-node');
  const aws = { region: 'us-east-1', endpoint: ready.endpoint, credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } };
  const eks = new EKSClient(aws);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(ready.kubeconfig);
  const { clusters = [] } = await eks.send(new ListClustersCommand({}));
  for (const name of clusters) {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    const { addons = [] } = await eks.send(new ListAddonsCommand({ clusterName: name }));
    console.log(`cluster ${cluster.arn}  Kubernetes ${cluster.version} ${cluster.platformVersion}  add-ons: ${addons.join(', ')}`);
    kc.setCurrentContext(cluster.arn);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const sas = await core.listServiceAccountForAllNamespaces();
    const pods = await core.listPodForAllNamespaces();
    for (const sa of sas.items) {
      const role = sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'];
      if (!role) continue;
      const mine = pods.items.filter((p) => p.metadata?.namespace === sa.metadata?.namespace && p.spec?.serviceAccountName === sa.metadata?.name);
      const env = (p) => p.spec?.containers?.flatMap((c) => c.env ?? []).map((e) => e.name) ?? [];
      const onPi = mine.filter((p) => env(p).includes('AWS_CONTAINER_CREDENTIALS_FULL_URI')).length;
      const onIrsa = mine.filter((p) => env(p).includes('AWS_ROLE_ARN')).length;
      console.log(`  ${`${sa.metadata.namespace}/${sa.metadata.name}`.padEnd(36)} ${role.trim().padEnd(56)} pods: ${onIrsa} IRSA, ${onPi} Pod Identity`);
    }
    console.log('');
  }
} finally {
  sandbox.kill('SIGTERM');
}
