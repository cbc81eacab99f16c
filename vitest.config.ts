import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // PODID_SANDBOX_CHECK_CONTROLLERS: the sandbox checks its controllers' work list after every
    // pass (src/sandbox/kube/cluster.ts), in-process and in the sandboxes e2e tests start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1', PODID_SANDBOX_CHECK_CONTROLLERS: '1' },
    // vitest's default is one worker less than the cores: one worker on a 2-core machine, so
    // the files ran one after another. Three keep both cores busy while a worker waits (on a
    // demo rollout, a retry back-off, a process it started): on 2 cores, 3 workers finished the
    // suite 4-5 s sooner than 2 (49-54 s against 54-58 s) at a cost of ~5 s more CPU, and tied
    // under a heavy outside load. e2e tests bound their waits on processes (hangs), never time
    // what they assert, so they hold under that load.
    maxWorkers: 3,
    // Test files share their worker (no new process and module load per file: it halves the
    // suite's CPU). test/setup/no-leaks.ts fails a file that leaves the process changed.
    isolate: false,
    setupFiles: ['test/setup/no-leaks.ts'],
    // One temporary directory for the run, on a RAM disk where there is one (test/setup/tmpdir.ts).
    globalSetup: ['test/setup/tmpdir.ts'],
    server: {
      deps: {
        // The built CLI (test/helpers/podid.ts runs it in-process) loads natively, as
        // bin/podid.js loads it, not through vitest's transform.
        external: [/\/dist\/.*\.js$/],
      },
    },
  },
});
