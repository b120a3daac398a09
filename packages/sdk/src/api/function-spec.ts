import type { Context } from "./context.js";
import type { Message } from "./message.js";
import type { ValueSpec } from "./value-spec.js";

/** A stateful function: its typename, the state it declares, and its code. */
export interface FunctionSpec {
  /** `namespace/name`, split at the last '/'. */
  readonly typename: string;
  readonly specs?: readonly ValueSpec<unknown>[];
  readonly fn: (context: Context, message: Message) => void | Promise<void>;
}
