/** The error catalog: one file per area, all codes unique (checked by test/errors.test.ts). */
export * from "./switchboard-error.js";
