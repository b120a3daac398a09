import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors raised while dispatching a batch to a function or applying its result. */
export const DispatchErrors = {
  /** A result sends a message (or delayed message) to a function type no endpoint serves. */
  UNKNOWN_FUNCTION: { code: "SB_DISPATCH_UNKNOWN_FUNCTION", status: 422 },
  /** A result mutates a state name never registered for the function type. */
  UNKNOWN_STATE: { code: "SB_DISPATCH_UNKNOWN_STATE", status: 422 },
  /** A MODIFY (or a re-registration) names a typename other than the registered one. */
  STATE_TYPE_MISMATCH: { code: "SB_DISPATCH_STATE_TYPE_MISMATCH", status: 422 },
  /** A mutation type other than DELETE or MODIFY, or a MODIFY without a value. */
  BAD_MUTATION: { code: "SB_DISPATCH_BAD_MUTATION", status: 422 },
  /** A delayed message with a negative delay or no target, or a cancellation with no token. */
  BAD_DELAYED_MESSAGE: { code: "SB_DISPATCH_BAD_DELAYED_MESSAGE", status: 422 },
  /** A message with no target address or an empty id. */
  BAD_ADDRESS: { code: "SB_DISPATCH_BAD_ADDRESS", status: 422 },
  /** A result sends to an egress id with no binding. */
  UNKNOWN_EGRESS: { code: "SB_DISPATCH_UNKNOWN_EGRESS", status: 422 },
  /** The function kept answering IncompleteInvocationContext after its specs were registered. */
  REGISTRATION_LOOP: { code: "SB_DISPATCH_REGISTRATION_LOOP", status: 502 },
  /** An address's backlog reached maxNumBatchRequests. */
  BACKPRESSURE: { code: "SB_DISPATCH_BACKPRESSURE", status: 429 },
  /** The runtime is shutting down and takes no new work. */
  STOPPING: { code: "SB_DISPATCH_STOPPING", status: 503 },
} as const satisfies Record<string, ErrorDefinition>;
