#!/usr/bin/env node
// Tiny shim: the CLI is bundled into dist/ by `npm run build`; main() runs it for this process.
import('../dist/podid.js').then(
  (cli) => cli.main(),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/podid.js')) {
      process.stderr.write('podid: dist/podid.js is missing; run `npm run build` first.\n');
      process.exit(1);
    }
    throw err;
  },
);
