/**
 * @switchboard/sdk/testing: run functions in-process with no network, on a fake clock, and
 * assert on what they did. See docs/testing.md.
 */
export {
  createFakeCache,
  type FakeCache,
  type FakeCacheData,
  type FakeCacheOptions,
  FakeHostCallError,
} from "./fake-cache.js";
export { FakeClock } from "./fake-clock.js";
export type {
  DelayedMessage,
  EgressRecord,
  InvocationRecord,
  SentMessage,
  StateChange,
} from "./records.js";
export { TestRuntime, type TestRuntimeOptions } from "./test-runtime.js";
