/**
 * The SDK's error catalog: stable codes, and the HTTP status an adapter answers with.
 * (The runtime keeps its own catalog; the SDK never depends on the runtime.)
 */
export const SdkErrors = {
  METHOD_NOT_ALLOWED: { code: "SB_SDK_METHOD_NOT_ALLOWED", status: 405 },
  UNSUPPORTED_CONTENT_TYPE: { code: "SB_SDK_UNSUPPORTED_CONTENT_TYPE", status: 415 },
  EMPTY_BODY: { code: "SB_SDK_EMPTY_BODY", status: 400 },
  BAD_REQUEST: { code: "SB_SDK_BAD_REQUEST", status: 400 },
  BODY_TOO_LARGE: { code: "SB_SDK_BODY_TOO_LARGE", status: 413 },
  UNKNOWN_FUNCTION: { code: "SB_SDK_UNKNOWN_FUNCTION", status: 404 },
  STATE_TYPE_MISMATCH: { code: "SB_SDK_STATE_TYPE_MISMATCH", status: 500 },
  FUNCTION_FAILED: { code: "SB_SDK_FUNCTION_FAILED", status: 500 },
  INVALID_DEFINITION: { code: "SB_SDK_INVALID_DEFINITION", status: 500 },
  INVALID_VALUE: { code: "SB_SDK_INVALID_VALUE", status: 500 },
  /** A web function's body did not parse or validate; the handler was not run. */
  BAD_INPUT: { code: "SB_SDK_BAD_INPUT", status: 400 },
  /** A host capability (Data, http) was used outside the Switchboard host. */
  NO_HOST: { code: "SB_SDK_NO_HOST", status: 500 },
  /** A web function returned something that cannot become a response. */
  BAD_OUTPUT: { code: "SB_SDK_BAD_OUTPUT", status: 500 },
  /** Testing: an outbound call in a WebTestHost that no mock (or cassette) answers. */
  UNMATCHED_CALL: { code: "SB_SDK_UNMATCHED_CALL", status: 500 },
  /** Testing: a cassette is missing, unreadable, or has no recorded answer for a call. */
  REPLAY_MISS: { code: "SB_SDK_REPLAY_MISS", status: 500 },
  /** Testing: a mock was not called as often as the test expected. */
  MOCK_NOT_SATISFIED: { code: "SB_SDK_MOCK_NOT_SATISFIED", status: 500 },
  /** A cached value read as text or JSON is not UTF-8, not JSON, or fails its schema. */
  CACHE_DECODE_FAILED: { code: "SB_SDK_CACHE_DECODE_FAILED", status: 500 },
} as const;

export type SdkErrorDefinition = (typeof SdkErrors)[keyof typeof SdkErrors];

export class SdkError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(definition: SdkErrorDefinition, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SdkError";
    this.code = definition.code;
    this.status = definition.status;
  }
}
