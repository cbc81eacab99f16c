// Bundles src/cli/main.ts into dist/ with code splitting, so the AWS SDK, the Kubernetes client
// and the sandbox are separate chunks that load only in the commands that import them.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { podid: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  define: { __PODID_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __podidCreateRequire } from 'node:module'; const require = __podidCreateRequire(import.meta.url);" },
});
