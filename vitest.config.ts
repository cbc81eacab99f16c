import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' },
    server: {
      deps: {
        // The built CLI (test/helpers/podid.ts runs it in-process) loads natively, as
        // bin/podid.js loads it, not through vitest's transform.
        external: [/\/dist\/.*\.js$/],
      },
    },
  },
});
