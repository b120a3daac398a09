import type { TransportOptions } from "../../packages/runtime/src/transport/index.js";

/** Default-profile options with every timer armed, as the runtime calls a remote function. */
export function benchOptions(overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    profile: "default",
    callTimeoutMs: 60_000,
    connectTimeoutMs: 10_000,
    readTimeoutMs: 10_000,
    writeTimeoutMs: 10_000,
    poolSize: 1024,
    poolTtlMs: 0,
    payloadMaxBytes: 4 * 1024 * 1024,
    retry: {
      retryIoErrors: true,
      retryStatuses: [408, 409, 420, 429, 499],
      retryServerErrors: true,
      retryInvalidResponses: false,
      initialBackoffMs: 10,
      maxBackoffMs: 2000,
    },
    ...overrides,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
