/**
 * @switchboard/sdk/testing: run functions in-process with no network, on a fake clock, and
 * assert on what they did. See docs/testing.md.
 */
export type { CallMatcher, TextMatcher } from "./call-matcher.js";
export { Cassette, type CassetteMode, type CassetteOptions, recordRequested } from "./cassette.js";
export {
  createFakeCache,
  type FakeCache,
  type FakeCacheData,
  type FakeCacheOptions,
  FakeHostCallError,
} from "./fake-cache.js";
export { type FakeCacheCapability, fakeCacheCapability } from "./fake-cache-capability.js";
export { FakeClock } from "./fake-clock.js";
export { HttpMock, type MockReply, type MockResponse, MockRoute } from "./http-mock.js";
export type { OutboundCall } from "./outbound-call.js";
export type {
  DelayedMessage,
  EgressRecord,
  InvocationRecord,
  SentMessage,
  StateChange,
} from "./records.js";
export type { TestCapability, TestHostCall, TestInvocation } from "./test-capability.js";
export { TestRuntime, type TestRuntimeOptions } from "./test-runtime.js";
export {
  type TestUpstream,
  testWebFunction,
  WebTestHost,
  type WebTestHostOptions,
  type WebTestRequest,
} from "./web-test-host.js";
export { WebTestResponse } from "./web-test-response.js";
