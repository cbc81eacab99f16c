/**
 * Test files share their worker process (vitest.config.ts: isolate false), so a file must leave
 * the process as it found it: the same environment, working directory and signal and exit
 * handlers. This setup file runs around every test file and fails the file that leaks one, so a
 * leak is found where it happens, never as a puzzling failure of whichever file runs next.
 */
import { afterAll, beforeAll, expect } from 'vitest';

const EVENTS = ['SIGINT', 'SIGTERM', 'exit', 'warning', 'unhandledRejection', 'uncaughtException'] as const;
let before: { env: Record<string, string | undefined>; cwd: string; listeners: Record<string, number> };

const snapshot = () => ({
  env: { ...process.env },
  cwd: process.cwd(),
  listeners: Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e)])),
});

beforeAll(() => {
  before = snapshot();
});

afterAll(() => {
  const after = snapshot();
  expect(after.env, 'the test file left process.env changed').toEqual(before.env);
  expect(after.cwd, 'the test file left the working directory changed').toBe(before.cwd);
  expect(after.listeners, 'the test file left process listeners behind').toEqual(before.listeners);
});
