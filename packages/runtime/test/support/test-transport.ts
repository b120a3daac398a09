import type { TestContext } from "node:test";
import { createTransport, type Transport } from "../../src/transport/index.js";

/** A transport closed when test `t` ends. */
export function transportFor(t: Pick<TestContext, "after">): Transport {
  const transport = createTransport();
  t.after(() => transport.close());
  return transport;
}
