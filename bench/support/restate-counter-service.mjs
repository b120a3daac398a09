/**
 * The Restate side of `npm run bench -- restate`: a virtual object `Counter` whose exclusive
 * `add` increments state `n` (as Switchboard's bench counter does) and whose shared `get` reads
 * it, served by @restatedev/restate-sdk over HTTP/2 (the SDK's default, bidirectional
 * streaming) on a loopback port. Plain JS run by node itself: the SDK lives in the bench cache
 * (argv[2] = the SDK's resolved entry file), not in the project's dependencies. Prints its port.
 */
import { createServer } from "node:http2";
import { pathToFileURL } from "node:url";

// The SDK calls Promise.withResolvers (Node >= 22) without checking for it; on Node 20 it has
// to exist before the SDK's modules load, hence the dynamic import below.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const sdkEntry = process.argv[2];
if (!sdkEntry) throw new Error("usage: restate-counter-service.mjs <sdk entry file> [port]");
const restate = await import(pathToFileURL(sdkEntry).href);

const counter = restate.object({
  name: "Counter",
  handlers: {
    add: async (ctx) => {
      const n = ((await ctx.get("n")) ?? 0) + 1;
      ctx.set("n", n);
      return n;
    },
    get: restate.handlers.object.shared(async (ctx) => (await ctx.get("n")) ?? 0),
  },
});

const server = createServer(restate.createEndpointHandler({ services: [counter] }));
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () =>
  process.stdout.write(`${server.address().port}\n`),
);
