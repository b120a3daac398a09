/** A second module (its own cache scope in host-cache.test.ts) with the same cache calls under another name. */
import { webFunction } from "@switchboard/sdk";
import { cacheOp } from "./cache-module.js";

export const cacheOpB = webFunction({ name: "cache-op-b", input: cacheOp.input, handler: cacheOp.handler });
