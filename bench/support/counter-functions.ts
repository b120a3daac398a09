/** The counter used by the benchmarks: state `seen` (int) + 1 per invocation, nothing else. */
import { type Context, INT, StatefulFunctions, valueSpec } from "@switchboard/sdk";

const SEEN = valueSpec("seen", INT);

function count(context: Context): void {
  context.storage.set(SEEN, (context.storage.get(SEEN) ?? 0) + 1);
}

/** `bench/counter`, and `outage/counter` for the endpoint the outage benchmark takes down. */
export const counterFunctions = new StatefulFunctions()
  .register({ typename: "bench/counter", specs: [SEEN], fn: count })
  .register({ typename: "outage/counter", specs: [SEEN], fn: count });
