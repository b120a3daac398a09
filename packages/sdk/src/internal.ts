/**
 * For Switchboard's host worker only (not a public API; may change in any release): the
 * pieces the worker needs to run web functions and answer host calls.
 */

export type * from "./web/cache-wire.js";
export type { DataRef } from "./web/data.js";
export { type HostBridge, installHostBridge } from "./web/host-bridge.js";
export { NOT_FORWARDED_HEADERS } from "./web/not-forwarded-headers.js";
export { runWebFunction } from "./web/run-web-function.js";
export type * from "./web/wire.js";
