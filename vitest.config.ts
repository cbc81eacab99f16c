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
    // the files ran one after another. Two keep both cores busy; e2e tests bound their waits
    // on processes (hangs), never time what they assert, so they hold under that load.
    maxWorkers: 2,
    // Test files share their worker (no new process and module load per file: it halves the
    // suite's CPU). test/setup/no-leaks.ts fails a file that leaves the process changed.
    isolate: false,
    setupFiles: ['test/setup/no-leaks.ts'],
    server: {
      deps: {
        // The built CLI (test/helpers/podid.ts runs it in-process) loads natively, as
        // bin/podid.js loads it, not through vitest's transform.
        external: [/\/dist\/.*\.js$/],
      },
    },
  },
});
