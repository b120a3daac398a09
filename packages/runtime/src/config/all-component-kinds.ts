import { registerCacheKinds } from "../cache/cache-kinds.js";
import { registerHostKinds } from "../host/host-kinds.js";
import { registerIoKinds } from "../io/io-kinds.js";
import { type ComponentRegistry, defaultRegistry } from "./component-registry.js";

/** Every component kind Switchboard understands: endpoints, I/O, hosted functions, cache. */
export function allComponentKinds(): ComponentRegistry {
  return registerCacheKinds(registerHostKinds(registerIoKinds(defaultRegistry())));
}
