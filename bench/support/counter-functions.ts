/** The counter used by the benchmarks: state `seen` (int) + 1 per invocation, nothing else. */
import { INT, StatefulFunctions, valueSpec } from "@switchboard/sdk";

const SEEN = valueSpec("seen", INT);

export const counterFunctions = new StatefulFunctions().register({
  typename: "bench/counter",
  specs: [SEEN],
  fn: (context) => {
    context.storage.set(SEEN, (context.storage.get(SEEN) ?? 0) + 1);
  },
});
