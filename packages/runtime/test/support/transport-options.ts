import type { RetryPolicy, TransportOptions } from "../../src/transport/types.js";

export const defaultRetry: RetryPolicy = {
  retryIoErrors: true,
  retryStatuses: [408, 409, 420, 429, 499],
  retryServerErrors: true,
  retryInvalidResponses: false,
  initialBackoffMs: 5,
  maxBackoffMs: 50,
};

export const asyncRetry: RetryPolicy = {
  retryIoErrors: true,
  retryStatuses: "all-failures",
  retryServerErrors: true,
  retryInvalidResponses: true,
  initialBackoffMs: 2,
  maxBackoffMs: 50,
};

export function options(overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    profile: "default",
    callTimeoutMs: 2000,
    connectTimeoutMs: 1000,
    readTimeoutMs: 1000,
    writeTimeoutMs: 1000,
    poolSize: 8,
    poolTtlMs: 0,
    payloadMaxBytes: 1024 * 1024,
    retry: defaultRetry,
    ...overrides,
  };
}
