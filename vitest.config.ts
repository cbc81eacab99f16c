import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // PODID_SANDBOX_CHECK_CONTROLLERS: the sandbox checks its controllers' work list after every
    // pass (src/sandbox/kube/cluster.ts), in-process and in the sandboxes e2e tests start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1', PODID_SANDBOX_CHECK_CONTROLLERS: '1' },
  },
});
