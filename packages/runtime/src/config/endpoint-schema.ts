/**
 * The shape of the StateFun endpoint kinds' `spec`, as written in YAML. Semantic checks
 * (patterns, URLs, duration order, TLS files) and defaults live in endpoint-model.ts.
 */
import { z } from "zod";

export const ENDPOINT_V1_KIND = "io.statefun.endpoints.v1/http";
export const ENDPOINT_V2_KIND = "io.statefun.endpoints.v2/http";
export const OKHTTP_TRANSPORT = "io.statefun.transports.v1/okhttp";
export const ASYNC_TRANSPORT = "io.statefun.transports.v1/async";

const duration = z
  .union([z.string(), z.number()])
  .describe("a duration like 500ms, 10 sec, 2m or 1 min (a bare number is milliseconds)");

export const timeoutsSchema = z.object({
  call: duration.optional(),
  connect: duration.optional(),
  read: duration.optional(),
  write: duration.optional(),
});

/** Switchboard extension: widen or narrow the retry policy of a transport. */
export const retrySchema = z.object({
  statuses: z.array(z.number().int().min(100).max(599)).optional().describe("extra HTTP statuses to retry"),
  io_errors: z.boolean().optional(),
  invalid_responses: z.boolean().optional(),
  initial_backoff: duration.optional(),
  max_backoff: duration.optional(),
});

export const transportSchema = z.object({
  type: z.string().optional(),
  timeouts: timeoutsSchema.optional(),
  call: duration.optional(),
  connect: duration.optional(),
  pool_ttl: duration.optional(),
  pool_size: z.number().int().positive().optional(),
  payload_max_bytes: z.number().int().positive().optional(),
  trust_cacerts: z.union([z.string(), z.array(z.string())]).optional(),
  client_cert: z.string().optional(),
  client_key: z.string().optional(),
  client_key_password: z.string().optional(),
  retry: retrySchema.optional(),
  http2: z.boolean().optional(),
});

const common = {
  functions: z.string().describe("namespace/* or namespace/name"),
  urlPathTemplate: z
    .string()
    .describe("http(s)://host/{function.name} or http(s)+unix:///path/x.sock/{function.name}"),
  maxNumBatchRequests: z.number().int().optional(),
};

export const endpointV1Spec = z.object({ ...common, timeouts: timeoutsSchema.optional() });
export const endpointV2Spec = z.object({ ...common, transport: transportSchema.optional() });

export type EndpointV1Spec = z.output<typeof endpointV1Spec>;
export type EndpointV2Spec = z.output<typeof endpointV2Spec>;

/** Keys a spec may hold at each level, for unknown-key warnings. */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  [`${ENDPOINT_V1_KIND}:spec`]: Object.keys(endpointV1Spec.shape),
  [`${ENDPOINT_V2_KIND}:spec`]: Object.keys(endpointV2Spec.shape),
  timeouts: Object.keys(timeoutsSchema.shape),
  transport: Object.keys(transportSchema.shape),
  retry: Object.keys(retrySchema.shape),
};
