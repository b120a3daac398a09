/** Programmatic API of the Switchboard runtime. */
export * from "./errors/index.js";
