import { z } from "zod";
import type { ComponentRegistry } from "../config/component-registry.js";
import { DURATION_HINT, parseDuration } from "../config/duration.js";

export const MEMORY_CACHE_KIND = "io.switchboard.cache.v1/memory";
export const REDIS_CACHE_KIND = "io.switchboard.cache.v1/redis";

const MIB = 1024 * 1024;
/** Redis refuses strings above 512 MiB; leave room for the version header. */
const REDIS_MAX_VALUE_BYTES = 512 * MIB - 64;

/** A StateFun duration (`500ms`, `10 sec`, `5 min`), as milliseconds; `positive` rejects 0. */
function duration(defaultValue: string, positive = true) {
  return z
    .union([z.string(), z.number()])
    .describe(DURATION_HINT)
    .default(defaultValue)
    .transform((input, context) => {
      const parsed = parseDuration(input);
      if (!parsed.ok) {
        context.addIssue({ code: "custom", message: parsed.reason });
        return z.NEVER;
      }
      if (positive && parsed.ms <= 0) {
        context.addIssue({ code: "custom", message: `expected ${DURATION_HINT} above 0` });
        return z.NEVER;
      }
      return Math.ceil(parsed.ms);
    });
}

const common = {
  /** The scope of every key, so applications sharing a backend never collide. */
  application: z
    .string()
    .regex(/^[^/]+$/, "expected a non-empty application name without '/'")
    .default("default")
    .describe("scope of the keys: applications sharing a backend never see each other's entries"),
  defaultTtl: duration("1 min").describe(`TTL of writes that give none: ${DURATION_HINT}`),
  maxValueBytes: z
    .number()
    .int()
    .positive()
    .default(MIB)
    .describe("largest value accepted; larger writes fail with SB_CACHE_VALUE_TOO_LARGE"),
  maxKeyBytes: z.number().int().positive().max(65_536).default(1024).describe("largest key, UTF-8 bytes"),
};

export const memoryCacheSpec = z
  .object({
    ...common,
    maxTotalBytes: z
      .number()
      .int()
      .positive()
      .default(64 * MIB)
      .describe("bound on the memory the cache holds; least recently used entries are evicted"),
  })
  .refine((spec) => spec.maxValueBytes < spec.maxTotalBytes, {
    message: "maxValueBytes must be below maxTotalBytes",
    path: ["maxValueBytes"],
  });
export type MemoryCacheSpec = z.output<typeof memoryCacheSpec>;

export const redisCacheSpec = z.object({
  ...common,
  maxValueBytes: common.maxValueBytes.pipe(z.number().max(REDIS_MAX_VALUE_BYTES)),
  url: z
    .string()
    .regex(/^rediss?:\/\/.+/, "expected redis://host:port[/db] or rediss://host:port[/db]")
    .describe("redis://[user:password@]host:port[/db], or rediss:// for TLS"),
  keyPrefix: z
    .string()
    .default("switchboard:cache:")
    .describe("prepended to every key in Redis, before the application"),
  commandTimeout: duration("1 sec").describe(`a command without a reply by then fails: ${DURATION_HINT}`),
  connectTimeout: duration("2 sec").describe(`bound on one connect attempt: ${DURATION_HINT}`),
  maxReconnectDelay: duration("1 sec").describe(
    `cap on the delay between reconnect attempts: ${DURATION_HINT}`,
  ),
});
export type RedisCacheSpec = z.output<typeof redisCacheSpec>;

/** Registers the cache component kinds (at most one cache per runtime; memory when none). */
export function registerCacheKinds(registry: ComponentRegistry): ComponentRegistry {
  return registry
    .register({
      kind: MEMORY_CACHE_KIND,
      schema: memoryCacheSpec,
      describe: "the functions' cache in this process's memory (the default)",
    })
    .register({
      kind: REDIS_CACHE_KIND,
      schema: redisCacheSpec,
      describe: "the functions' cache in Redis, shared by every runtime using it",
    });
}
