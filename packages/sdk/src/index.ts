/**
 * @switchboard/sdk: write StateFun-compatible stateful functions in TypeScript. They run
 * behind Switchboard or an Apache Flink StateFun cluster unchanged.
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
