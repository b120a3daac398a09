/**
 * The base of every error Switchboard raises on purpose. Each error has a stable `code`
 * (never reused for another meaning) and, where it can reach an HTTP client, a `status`.
 * The catalog of codes lives in the sibling files of this folder, one per area, and is
 * listed in docs/errors.md.
 */
export interface ErrorDefinition {
  /** Stable machine-readable code, `SB_<AREA>_<WHAT>`. */
  readonly code: string;
  /** HTTP status used when this error is the answer to a request. */
  readonly status: number;
}

const kSwitchboardError = Symbol.for("switchboard.error");

export class SwitchboardError extends Error {
  readonly code: string;
  readonly status: number;
  /** Structured facts about the failure (never secrets or bodies), for logs and admin views. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    definition: ErrorDefinition,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SwitchboardError";
    this.code = definition.code;
    this.status = definition.status;
    this.details = details;
  }

  // Symbol-based so `instanceof` holds across two loaded copies of the package.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && kSwitchboardError in value;
  }

  get [kSwitchboardError](): true {
    return true;
  }

  toJSON(): { code: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` is a SwitchboardError carrying `definition`'s code. */
export function isError(error: unknown, definition: ErrorDefinition): error is SwitchboardError {
  return error instanceof SwitchboardError && error.code === definition.code;
}
