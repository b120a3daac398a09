import type { TransportOptions, TransportProfile } from "../transport/types.js";

export const DEFAULT_PAYLOAD_MAX_BYTES = 32 * 1024 * 1024;

/**
 * StateFun's two transports as profiles of our one engine. "default" follows the seed
 * document's OkHttp transport (call 1 min, connect/read/write 10 s, retries I/O errors and
 * 408/409/420/429/499/5xx); "async" follows StateFun's Netty transport (call 2 min, connect
 * 20 s, pool_ttl 15 s, pool_size 1024, payload_max_bytes 32 MiB, retries every failure).
 */
export function transportDefaults(profile: TransportProfile): TransportOptions {
  if (profile === "async") {
    return {
      profile,
      callTimeoutMs: 120_000,
      connectTimeoutMs: 20_000,
      poolSize: 1024,
      poolTtlMs: 15_000,
      payloadMaxBytes: DEFAULT_PAYLOAD_MAX_BYTES,
      retry: {
        retryIoErrors: true,
        retryStatuses: "all-failures",
        retryServerErrors: true,
        retryInvalidResponses: true,
        initialBackoffMs: 2,
        maxBackoffMs: 2000,
      },
    };
  }
  return {
    profile,
    callTimeoutMs: 60_000,
    connectTimeoutMs: 10_000,
    readTimeoutMs: 10_000,
    writeTimeoutMs: 10_000,
    poolSize: 1024,
    poolTtlMs: 0,
    payloadMaxBytes: DEFAULT_PAYLOAD_MAX_BYTES,
    retry: {
      retryIoErrors: true,
      retryStatuses: [408, 409, 420, 429, 499],
      retryServerErrors: true,
      retryInvalidResponses: false,
      initialBackoffMs: 10,
      maxBackoffMs: 2000,
    },
  };
}
