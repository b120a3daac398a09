/**
 * @switchboard/sdk: write StateFun-compatible stateful functions and host web functions in
 * TypeScript. Stateful functions run behind Switchboard (remote or embedded in its host) or
 * an Apache Flink StateFun cluster unchanged; web functions run in Switchboard's host.
 */
export { createFetchHandler } from "./adapters/fetch-handler.js";
export { createNodeHandler } from "./adapters/node-handler.js";
export type { ServeOptions } from "./adapters/serve-options.js";
export { type Address, address, splitTypename } from "./api/address.js";
export type { Context, Storage } from "./api/context.js";
export type { FunctionSpec } from "./api/function-spec.js";
export { Message, type TypedValue, typedValue } from "./api/message.js";
export {
  type EgressMessage,
  egressMessageBuilder,
  kafkaEgressMessage,
  kinesisEgressMessage,
  messageBuilder,
  type OutgoingMessage,
  playgroundEgressMessage,
} from "./api/outgoing.js";
export { type ValueSpec, valueSpec } from "./api/value-spec.js";
export { SdkError, SdkErrors } from "./errors.js";
export { RequestReplyHandler } from "./handler/request-reply-handler.js";
export { PROTOCOL_CONTENT_TYPE } from "./protocol/index.js";
export { StatefulFunctions } from "./registry.js";
export { BOOL, DOUBLE, FLOAT, INT, LONG, STRING } from "./types/builtin-types.js";
export { customType, jsonType } from "./types/custom-types.js";
export type { Type } from "./types/type.js";
export { cache } from "./web/cache.js";
export type {
  CacheCondition,
  CacheEntry,
  CacheLoader,
  CacheValueInput,
  GetOrSetOptions,
  SetIfResult,
} from "./web/cache-types.js";
export { Data } from "./web/data.js";
export { http } from "./web/http.js";
export type { HttpRequest, HttpResponse } from "./web/http-types.js";
export { json } from "./web/json-input.js";
export type { StandardSchemaV1 } from "./web/standard-schema.js";
export { isWebFunction, type WebFunction, type WebFunctionSpec, webFunction } from "./web/web-function.js";
export { formatSse, type SseEvent, type StreamChunk, WebResponse } from "./web/web-response.js";
export type { InputValue, JsonInput, JsonValue, WebInput, WebOutput, WebRequest } from "./web/web-types.js";
