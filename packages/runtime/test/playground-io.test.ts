import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { StringWrapperSchema } from "@switchboard/sdk/protocol";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import type { FunctionInvoker } from "../src/invoke/function-invoker.js";
import {
  PLAYGROUND_RECORD_TYPE,
  PlaygroundEgress,
  playgroundEgressSpec,
} from "../src/io/playground-egress.js";
import { PlaygroundIngress, playgroundIngressSpec } from "../src/io/playground-ingress.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { tempDir } from "./support/temp-dir.js";
import { namespaceRouter } from "./support/test-router.js";

/** An invoker that never answers, so accepted messages stay queued where tests can see them. */
const hanging: FunctionInvoker = { invoke: () => new Promise(() => {}) };

async function startIngress(
  t: { after(fn: () => unknown): void },
  dir: string,
  maxNumBatchRequests = 1000,
  maxBodyBytes?: number,
) {
  const store = Store.open(dir);
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router: namespaceRouter(["example"], { maxNumBatchRequests }),
    invoker: hanging,
    egress: { get: () => undefined },
  });
  await dispatcher.start();
  const ingress = new PlaygroundIngress(
    playgroundIngressSpec.parse({ port: 0, ...(maxBodyBytes ? { maxBodyBytes } : {}) }),
    dispatcher,
    {
      info() {},
      warn() {},
      error() {},
      debug() {},
      child() {
        return this;
      },
    },
  );
  await ingress.start();
  t.after(async () => {
    await ingress.stop();
    await dispatcher.stop(10);
    store.close();
  });
  return { store, ingress };
}

test("ingress answers 202 once the message is stored, typed by its vendor content type", async (t) => {
  const { store, ingress } = await startIngress(t, tempDir(t));
  const response = await fetch(`${ingress.url}/example/greeter/alice`, {
    method: "POST",
    headers: { "content-type": "application/vnd.example/GreetRequest" },
    body: '{"name":"alice"}',
  });
  assert.equal(response.status, 202);
  const [stored] = store.messages.all();
  assert.equal(stored?.target.fn, "example/greeter");
  assert.equal(stored?.target.id, "alice");
  assert.equal(stored?.argument.typename, "example/GreetRequest");
  assert.equal(Buffer.from(stored?.argument.value ?? []).toString(), '{"name":"alice"}');
});

test("ingress encodes untyped text as a proper io.statefun.types/string value", async (t) => {
  const { store, ingress } = await startIngress(t, tempDir(t));
  const response = await fetch(`${ingress.url}/example/greeter/bob`, { method: "POST", body: "hello" });
  assert.equal(response.status, 202);
  const [stored] = store.messages.all();
  assert.equal(stored?.argument.typename, "io.statefun.types/string");
  assert.equal(fromBinary(StringWrapperSchema, stored?.argument.value ?? new Uint8Array()).value, "hello");
});

test("ingress rejects bad paths, unknown functions, wrong methods and oversize bodies, storing nothing", async (t) => {
  const { store, ingress } = await startIngress(t, tempDir(t), 1000, 16);
  const cases: Array<[string, RequestInit, number, string]> = [
    ["/example/greeter", { method: "POST", body: "x" }, 400, "SB_INGRESS_BAD_PATH"],
    ["/a/b/c/d", { method: "POST", body: "x" }, 400, "SB_INGRESS_BAD_PATH"],
    ["/nowhere/fn/1", { method: "POST", body: "x" }, 404, "SB_INGRESS_UNKNOWN_FUNCTION"],
    ["/example/greeter/1", { method: "GET" }, 405, "SB_INGRESS_BAD_METHOD"],
    ["/example/greeter/1", { method: "POST", body: "x".repeat(17) }, 413, "SB_INGRESS_TOO_LARGE"],
  ];
  for (const [path, init, status, code] of cases) {
    const response = await fetch(`${ingress.url}${path}`, init);
    assert.equal(response.status, status, path);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, path);
  }
  assert.equal(store.messages.count(), 0);
});

test("ingress answers 429 with Retry-After for a back-pressured address only", async (t) => {
  const { ingress } = await startIngress(t, tempDir(t), 2);
  const post = (id: string) => fetch(`${ingress.url}/example/counter/${id}`, { method: "POST", body: "x" });
  assert.equal((await post("hot")).status, 202); // in flight (never answered)
  assert.equal((await post("hot")).status, 202);
  assert.equal((await post("hot")).status, 202);
  const refused = await post("hot");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await post("cold")).status, 202);
});

test("playground egress validates records and pops them oldest first, durably", async (t) => {
  const dir = tempDir(t);
  const store = Store.open(dir);
  t.after(() => store.close());
  const egress = new PlaygroundEgress(
    playgroundEgressSpec.parse({ port: 0, topics: ["greetings"] }),
    new SqliteBackend(store),
    {
      info() {},
      warn() {},
      error() {},
      debug() {},
      child() {
        return this;
      },
    },
  );
  await egress.start();
  t.after(() => egress.stop());
  const record = (body: unknown) => ({
    typename: PLAYGROUND_RECORD_TYPE,
    hasValue: true,
    value: Buffer.from(JSON.stringify(body)),
  });

  assert.throws(() => egress.accept({ typename: "other/type", hasValue: true, value: Buffer.from("{}") }), {
    code: "SB_EGRESS_INVALID_RECORD",
  });
  assert.throws(() => egress.accept(record({ topic: "unknown", payload: "x" })), {
    code: "SB_EGRESS_INVALID_RECORD",
  });
  assert.throws(
    () => egress.accept({ typename: PLAYGROUND_RECORD_TYPE, hasValue: true, value: Buffer.from("not json") }),
    { code: "SB_EGRESS_INVALID_RECORD" },
  );

  await store.commits.submit(() => {
    store.egress.insert(egress.accept(record({ topic: "greetings", payload: "first" })), Date.now());
    store.egress.insert(egress.accept(record({ topic: "greetings", payload: { n: 2 } })), Date.now());
  });
  const base = `http://127.0.0.1:${egress.port}`;
  assert.equal(await (await fetch(`${base}/greetings`)).text(), "first");
  assert.equal(await (await fetch(`${base}/greetings`)).text(), '{"n":2}');
  assert.equal((await fetch(`${base}/greetings`)).status, 404);
  assert.equal((await fetch(`${base}/nope`)).status, 405);
  assert.equal(store.egress.count(), 0);
});
