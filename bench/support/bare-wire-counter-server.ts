/**
 * Second baseline for bench/sdk-handler: the bare counter of bare-counter-server.ts, but
 * reading and writing the protocol with the SDK's own wire code (its hand-written ToFunction
 * reader, invocation-result writer and int codec) instead of the generated one. Against it,
 * the SDK's ratio is its overhead alone (registry, context, storage, adapter checks), with
 * the protocol costing the same on both sides. Imports SDK internals on purpose: a benchmark,
 * not an API. Prints its port.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { INT, valueSpec } from "@switchboard/sdk";
import { decodeInvocationBatch } from "../../packages/sdk/src/handler/wire/decode-invocation-batch.js";
import { encodeInvocationResult } from "../../packages/sdk/src/handler/wire/encode-invocation-result.js";

const SEEN = valueSpec("seen", INT);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    // One chunk is used as it is, as the SDK's adapter does: no copy the SDK does not make.
    const batch = decodeInvocationBatch(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    const seen = batch.state.find((state) => state.stateName === "seen")?.stateValue;
    let count = seen?.hasValue ? INT.deserialize(seen.value) : 0;
    count += batch.invocations.length;
    const reply = encodeInvocationResult([{ spec: SEEN, bytes: INT.serialize(count) }], [], [], []);
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": reply.length });
    response.end(reply);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
