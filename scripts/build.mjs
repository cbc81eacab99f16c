// Bundles src/cli/main.ts into dist/ with code splitting, so the AWS SDK, the Kubernetes client
// and the sandbox are separate chunks that load only in the commands that import them.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sdkXmlTextPatch } from './sdk-patches.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const require = createRequire(import.meta.url);

/**
 * The AWS SDK clients podid uses, bundled from their ES module builds (`dist-es`, each package's
 * `module` field) so that esbuild keeps only the commands and schemas podid sends: the CommonJS
 * builds Node loads by default hold every command of the service (EKS, IAM and STS together took
 * 0.7-1.0 s to load on the 2-core bench machine, the tree-shaken bundle 0.15-0.25 s). The
 * packages they import resolve as usual (`exports` conditions pick their ES builds too).
 */
const SDK_CLIENTS = ['@aws-sdk/client-eks', '@aws-sdk/client-iam', '@aws-sdk/client-sts'];
const sdkEsm = {
  name: 'aws-sdk-esm',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\/client-(eks|iam|sts)$/ }, (args) => {
      const manifest = require.resolve(`${args.path}/package.json`);
      const { module: esm } = JSON.parse(readFileSync(manifest, 'utf8'));
      return { path: join(dirname(manifest), esm) };
    });
  },
};

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { podid: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Dependencies stay external except @kubernetes/client-node, the AWS SDK clients and yaml: bundled,
  // tree-shaken to what podid uses. client-node then loads in a fraction of the ~1,000 files Node
  // would otherwise read on every live scan (measured: about 0.65 s saved per scan); the SDK
  // clients, see SDK_CLIENTS. yaml too: every live command reads the kubeconfig with it, and its
  // CommonJS build is 72 files for Node to resolve and compile one by one (bundled: about 45 ms
  // less CPU before a scan's first request, measured on the 2-core bench machine).
  // The sandbox's IAM simulator (@cloud-copilot/iam-*, AGPL-3.0-or-later) is a development
  // dependency and stays external too: podid (Apache-2.0) never ships it; the credential probe
  // loads it when it is installed (a clone after npm ci) and answers 501 saying so otherwise.
  external: [...Object.keys(pkg.dependencies ?? {}).filter((d) => d !== '@kubernetes/client-node' && d !== 'yaml' && !SDK_CLIENTS.includes(d)), '@cloud-copilot/*'],
  plugins: [sdkEsm, sdkXmlTextPatch],
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  define: { __PODID_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __podidCreateRequire } from 'node:module'; const require = __podidCreateRequire(import.meta.url);" },
});
