/**
 * Baseline for bench/sdk-handler: the same counter written by hand on node:http with the
 * generated protocol schemas and no SDK (no registry, no context, no checks). Prints its port.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  FromFunction_PersistedValueMutation_MutationType,
  FromFunctionSchema,
  IntWrapperSchema,
  ToFunctionSchema,
} from "@switchboard/sdk/protocol";

const INT = "io.statefun.types/int";

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const toFunction = fromBinary(ToFunctionSchema, Buffer.concat(chunks));
    if (toFunction.request.case !== "invocation") {
      response.writeHead(400).end();
      return;
    }
    const batch = toFunction.request.value;
    const seen = batch.state.find((state) => state.stateName === "seen")?.stateValue;
    let count = seen?.hasValue ? fromBinary(IntWrapperSchema, seen.value).value : 0;
    count += batch.invocations.length;
    const reply = toBinary(
      FromFunctionSchema,
      create(FromFunctionSchema, {
        response: {
          case: "invocationResult",
          value: {
            stateMutations: [
              {
                mutationType: FromFunction_PersistedValueMutation_MutationType.MODIFY,
                stateName: "seen",
                stateValue: {
                  typename: INT,
                  hasValue: true,
                  value: toBinary(IntWrapperSchema, create(IntWrapperSchema, { value: count })),
                },
              },
            ],
          },
        },
      }),
    );
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": reply.length });
    response.end(reply);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
