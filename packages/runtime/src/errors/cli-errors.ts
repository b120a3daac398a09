import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the command line itself (not of what it starts). */
export const CliErrors = {
  /** `switchboard init` was pointed at a directory that already holds files; nothing was written. */
  INIT_NOT_EMPTY: { code: "SB_CLI_INIT_NOT_EMPTY", status: 409 },
  /** `switchboard init --link` could not find the Switchboard checkout it links the project to. */
  INIT_NO_CHECKOUT: { code: "SB_CLI_INIT_NO_CHECKOUT", status: 500 },
  /** `--port-offset` is not a whole number 0..65535, or pushes the admin port above 65535. */
  BAD_PORT_OFFSET: { code: "SB_CLI_BAD_PORT_OFFSET", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
