import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors about module configuration. */
export const ConfigErrors = {
  /** The configuration has errors; nothing was started. The message lists every diagnostic. */
  INVALID: { code: "SB_CONFIG_INVALID", status: 500 },
  /** No endpoint serves a function type. */
  NO_ENDPOINT: { code: "SB_CONFIG_NO_ENDPOINT", status: 404 },
} as const satisfies Record<string, ErrorDefinition>;

/** Codes of individual configuration diagnostics (errors and warnings), stable for tooling. */
export const ConfigDiagnosticCodes = {
  YAML_SYNTAX: "SB_CONFIG_YAML_SYNTAX",
  NOT_A_COMPONENT: "SB_CONFIG_NOT_A_COMPONENT",
  UNKNOWN_KIND: "SB_CONFIG_UNKNOWN_KIND",
  /** A StateFun kind Switchboard does not run (Kafka, Kinesis I/O); the message says what instead. */
  UNSUPPORTED_KIND: "SB_CONFIG_UNSUPPORTED_KIND",
  INVALID_VALUE: "SB_CONFIG_INVALID_VALUE",
  BAD_FUNCTIONS_PATTERN: "SB_CONFIG_BAD_FUNCTIONS_PATTERN",
  BAD_URL: "SB_CONFIG_BAD_URL",
  BAD_DURATION: "SB_CONFIG_BAD_DURATION",
  TIMEOUT_ORDER: "SB_CONFIG_TIMEOUT_ORDER",
  TLS_FILES: "SB_CONFIG_TLS_FILES",
  DUPLICATE_BINDING: "SB_CONFIG_DUPLICATE_BINDING",
  UNKNOWN_TRANSPORT: "SB_CONFIG_UNKNOWN_TRANSPORT",
  LEGACY_FORMAT: "SB_CONFIG_LEGACY_FORMAT",
  READ_FAILED: "SB_CONFIG_READ_FAILED",
  NO_FILES: "SB_CONFIG_NO_FILES",
  /** A listen port plus --port-offset is above 65535. */
  PORT_OUT_OF_RANGE: "SB_CONFIG_PORT_OUT_OF_RANGE",
  UNKNOWN_KEY: "SB_CONFIG_UNKNOWN_KEY",
  IGNORED_KEY: "SB_CONFIG_IGNORED_KEY",
  YAML_ALIASES: "SB_CONFIG_YAML_ALIASES",
  PORT_CLASH: "SB_CONFIG_PORT_CLASH",
  MISSING_FILE: "SB_CONFIG_MISSING_FILE",
} as const;
