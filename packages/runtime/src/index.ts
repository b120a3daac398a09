/** Programmatic API of the Switchboard runtime. */

export * from "./cache/index.js";
export * from "./errors/index.js";
