/** The error catalog: one file per area, all codes unique (checked by test/errors.test.ts). */

export * from "./admin-errors.js";
export * from "./cache-errors.js";
export * from "./cli-errors.js";
export * from "./config-errors.js";
export * from "./dispatch-errors.js";
export * from "./host-errors.js";
export * from "./io-errors.js";
export * from "./store-errors.js";
export * from "./switchboard-error.js";
export * from "./transport-errors.js";
