/**
 * Test files share their worker process (vitest.config.ts: isolate false), so a file must leave
 * the process as it found it: the same environment, working directory and signal and exit
 * handlers. This setup file runs around every test file and fails the file that leaks one, so a
 * leak is found where it happens, never as a puzzling failure of whichever file runs next.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect } from 'vitest';

const EVENTS = ['SIGINT', 'SIGTERM', 'exit', 'warning', 'unhandledRejection', 'uncaughtException'] as const;

const snapshot = () => ({
  env: { ...process.env },
  cwd: process.cwd(),
  listeners: Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e)])),
  // aws-sdk-client-mock replaces `send` on a client class's prototype with a sinon stub until
  // restore(). A file mocks at import, before beforeAll: so look for a stub, not for a change.
  sdkMocked: [EKSClient, IAMClient, STSClient].filter((c) => typeof (c.prototype.send as { restore?: unknown }).restore === 'function').map((c) => c.name),
});

let before: ReturnType<typeof snapshot>;

beforeAll(() => {
  before = snapshot();
});

afterAll(() => {
  const after = snapshot();
  expect(after.env, 'the test file left process.env changed').toEqual(before.env);
  expect(after.cwd, 'the test file left the working directory changed').toBe(before.cwd);
  expect(after.listeners, 'the test file left process listeners behind').toEqual(before.listeners);
  expect(after.sdkMocked, 'the test file left an AWS SDK client mocked (call restore() in afterAll)').toEqual([]);
});
