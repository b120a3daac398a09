import assert from "node:assert/strict";
import { test } from "node:test";
import { Data, http, json, type StandardSchemaV1, WebResponse, webFunction } from "@switchboard/sdk";
import { testWebFunction, WebTestHost } from "@switchboard/sdk/testing";

/** A tiny Standard Schema: an object with a string `name`. */
const Person: StandardSchemaV1<unknown, { name: string }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) =>
      typeof value === "object" && value !== null && typeof (value as { name?: unknown }).name === "string"
        ? { value: value as { name: string } }
        : { issues: [{ message: "expected a string", path: ["name"] }] },
  },
};

test("a JSON input is validated and a returned object is sent as application/json", async () => {
  const hello = webFunction({
    name: "hello",
    input: json(Person),
    handler: ({ name }) => ({ greeting: `hi ${name}` }),
  });
  const response = await testWebFunction(hello, { json: { name: "ada" } });
  assert.equal(response.status, 200);
  assert.equal(response.header("content-type"), "application/json");
  assert.deepEqual(response.json(), { greeting: "hi ada" });
});

test("a body that does not validate is a 400 saying what was wrong, and the handler does not run", async () => {
  let ran = false;
  const hello = webFunction({
    name: "hello",
    input: json(Person),
    handler: () => {
      ran = true;
    },
  });
  const response = await testWebFunction(hello, { json: { name: 7 } });
  assert.equal(response.status, 400);
  assert.match(response.json<{ error: { message: string } }>().error.message, /name: expected a string/);
  assert.equal(ran, false);
  const notJson = await testWebFunction(hello, { body: "{nope" });
  assert.equal(notJson.status, 400);
  assert.match(notJson.text, /not valid JSON/);
});

test("a schema that validates asynchronously is awaited: a good body reaches the handler, a bad one is a 400", async () => {
  const AsyncPerson: StandardSchemaV1<unknown, { name: string }> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: async (value) => Person["~standard"].validate(value),
    },
  };
  const hello = webFunction({
    name: "hello",
    input: json(AsyncPerson),
    handler: async ({ name }) => ({ greeting: `hi ${name}` }),
  });
  const good = await testWebFunction(hello, { json: { name: "ada" } });
  assert.equal(good.status, 200);
  assert.deepEqual(good.json(), { greeting: "hi ada" });
  const bad = await testWebFunction(hello, { json: { name: 7 } });
  assert.equal(bad.status, 400);
  assert.match(bad.json<{ error: { message: string } }>().error.message, /name: expected a string/);
});

test("outputs map as in the host: nothing is 204, text is text/plain, bytes are octet-stream", async () => {
  const none = webFunction({ name: "none", handler: () => undefined });
  const text = webFunction({ name: "text", input: "text", handler: (body) => body.toUpperCase() });
  const bytes = webFunction({ name: "bytes", handler: (body) => body.reverse() });
  const host = new WebTestHost({ functions: [none, text, bytes] });
  const empty = await host.request("none");
  assert.equal(empty.status, 204);
  assert.equal(empty.body.length, 0);
  const shout = await host.request("text", { body: "quiet" });
  assert.equal(shout.text, "QUIET");
  assert.equal(shout.header("content-type"), "text/plain; charset=utf-8");
  assert.equal(shout.header("content-length"), "5");
  const reversed = await host.request(bytes, { body: new Uint8Array([1, 2, 3]) });
  assert.equal(reversed.header("content-type"), "application/octet-stream");
  assert.deepEqual([...reversed.body], [3, 2, 1]);
});

test("the handler sees method, path, repeated query keys and repeated headers; a WebResponse keeps repeated headers", async () => {
  const echo = webFunction({
    name: "echo",
    handler: (_body, request) =>
      new WebResponse(201).header("set-cookie", "a=1").header("set-cookie", "b=2").json({
        method: request.method,
        path: request.path,
        query: request.query,
        accept: request.headers.accept,
      }),
  });
  const response = await testWebFunction(echo, {
    method: "put",
    path: "/items/7?a=1&a=2",
    query: { b: ["3", "4"] },
    headers: { accept: ["text/plain", "application/json"] },
  });
  assert.equal(response.status, 201);
  assert.deepEqual(response.headers["set-cookie"], ["a=1", "b=2"]);
  assert.deepEqual(response.json(), {
    method: "PUT",
    path: "/items/7",
    query: { a: ["1", "2"], b: ["3", "4"] },
    accept: ["text/plain", "application/json"],
  });
});

test("header() finds a header by any case before and after the record is built, and the request logs whole as JSON", async () => {
  const seen = webFunction({
    name: "seen",
    handler: (_body, request) => {
      const before = [request.header("X-Trace"), request.header("accept"), request.header("missing")];
      const record = request.headers;
      const after = [request.header("x-TRACE"), request.header("Accept")];
      return { before, after, traces: record["x-trace"], logged: JSON.parse(JSON.stringify(request)) };
    },
  });
  const response = await testWebFunction(seen, {
    path: "/p?q=1",
    headers: { "x-trace": ["t1", "t2"], accept: ["text/plain"] },
  });
  const body = response.json() as {
    before: unknown[];
    after: unknown[];
    traces: unknown;
    logged: { path: string; query: unknown; headers: Record<string, unknown>; method: string };
  };
  assert.deepEqual(body.before, ["t1", "text/plain", null]);
  assert.deepEqual(body.after, ["t1", "text/plain"]);
  assert.deepEqual(body.traces, ["t1", "t2"]);
  assert.equal(body.logged.method, "GET");
  assert.equal(body.logged.path, "/p");
  assert.deepEqual(body.logged.query, { q: ["1"] });
  assert.deepEqual(body.logged.headers["x-trace"], ["t1", "t2"]);
});

test("a thrown error is the host's 500 with an error id only; the test still sees the error", async () => {
  const boom = webFunction({
    name: "boom",
    handler: () => {
      throw new Error("secret detail");
    },
  });
  const response = await testWebFunction(boom);
  assert.equal(response.status, 500);
  assert.doesNotMatch(response.text, /secret detail/);
  assert.equal((response.error as Error).message, "secret detail");
});

test("a data input is a handle held by the test host, readable and relayable", async () => {
  const relay = webFunction({
    name: "relay",
    input: "data",
    handler: async (body) => {
      assert.equal(body.inHost, true);
      return new WebResponse(200).header("x-length", String((await body.bytes()).length)).body(body);
    },
  });
  const response = await testWebFunction(relay, { body: "abc" });
  assert.equal(response.text, "abc");
  assert.equal(response.header("x-length"), "3");
});

test("a streamed response is collected chunk by chunk, as server-sent events here", async () => {
  const ticks = webFunction({
    name: "ticks",
    handler: () =>
      new WebResponse().sse(
        (async function* () {
          yield { event: "tick", data: "1" };
          yield { data: "two\nlines" };
        })(),
      ),
  });
  const response = await testWebFunction(ticks);
  assert.equal(response.header("content-type"), "text/event-stream");
  assert.equal(response.chunks?.length, 2);
  assert.equal(response.text, "event: tick\ndata: 1\n\ndata: two\ndata: lines\n\n");
});

test("mocks match on method, URL, headers and body; the upstream's headers are added host-side", async () => {
  const search = webFunction({
    name: "search",
    input: "text",
    handler: async (query) => {
      const response = await http.invoke({
        upstream: "api",
        url: "/search",
        method: "POST",
        headers: { "x-trace": "t1" },
        json: { query },
      });
      return { status: response.status, hits: await response.body.json() };
    },
  });
  const host = new WebTestHost({
    functions: [search],
    upstreams: { api: { url: "https://api.example.test/", headers: { authorization: "Bearer k" } } },
  });
  const wrongBody = host.mock
    .on({ method: "POST", url: "https://api.example.test/search", json: { query: "other" } })
    .reply({ status: 500 });
  const route = host.mock
    .on({
      method: "post",
      url: /\/search$/,
      headers: { authorization: "Bearer k", "x-trace": (value) => value.startsWith("t"), cookie: false },
      json: { query: "cats" },
    })
    .reply((call) => ({ status: 200, json: [call.json<{ query: string }>().query, "more"] }));
  const response = await host.request("search", { body: "cats" });
  assert.deepEqual(response.json(), { status: 200, hits: ["cats", "more"] });
  route.assertCalled(1);
  assert.equal(wrongBody.calls.length, 0);
  assert.equal(response.calls[0]?.header("content-type"), "application/json");
  assert.throws(() => wrongBody.assertCalled(), { code: "SB_SDK_MOCK_NOT_SATISFIED" });
  assert.throws(() => host.mock.assertAllCalled(), /never called/);
});

test("times() uses a route up, and the next matching route answers", async () => {
  const twice = webFunction({
    name: "twice",
    handler: async () => {
      const first = await http.invoke({ url: "http://upstream.test/n" });
      const second = await http.invoke({ url: "http://upstream.test/n" });
      return [await first.body.text(), await second.body.text()];
    },
  });
  const host = new WebTestHost({ functions: [twice] });
  host.mock.on({ url: "http://upstream.test/n" }).times(1).reply({ body: "first" });
  host.mock.on({ url: "http://upstream.test/n" }).reply({ body: "later" });
  assert.deepEqual((await host.request(twice)).json(), ["first", "later"]);
});

test("an unmatched call fails the request with the call and the closest mock, even when the function catches it", async () => {
  const careless = webFunction({
    name: "careless",
    handler: async () => {
      try {
        await http.invoke({
          url: "https://api.example.test/v2/items",
          method: "DELETE",
          headers: { authorization: "Bearer hunter2" },
        });
      } catch {
        return "swallowed";
      }
    },
  });
  const host = new WebTestHost({ functions: [careless] });
  host.mock.on({ method: "GET", url: "https://api.example.test/v1/items" }).reply({ status: 200 });
  host.mock.on({ method: "DELETE", url: "https://api.example.test/v1/items" }).reply({ status: 204 });
  await assert.rejects(host.request(careless), (error: Error & { code?: string }) => {
    assert.equal(error.code, "SB_SDK_UNMATCHED_CALL");
    assert.match(error.message, /DELETE https:\/\/api\.example\.test\/v2\/items/);
    assert.match(error.message, /closest mock: #2/);
    assert.match(error.message, /ok {7}method/);
    assert.match(error.message, /MISMATCH url/);
    assert.match(error.message, /authorization: <hidden>/);
    assert.doesNotMatch(error.message, /hunter2/);
    return true;
  });
});

test('unmatched: "network" makes the call for real, keeping repeated response headers', async (t) => {
  const { loopback } = await import("./support/loopback.js");
  const upstream = await loopback(t, (_request, response, body) => {
    response.setHeader("x-repeat", ["a", "b"]);
    response.end(`got ${body.toString()}`);
  });
  const live = webFunction({
    name: "live",
    handler: async () => {
      const response = await http.invoke({ url: `${upstream.url}/x`, body: "ping" });
      return { headers: response.headers["x-repeat"], text: await response.body.text() };
    },
  });
  const response = await testWebFunction(live, {}, { unmatched: "network" });
  assert.deepEqual(response.json(), { headers: ["a", "b"], text: "got ping" });
  assert.equal(upstream.seen[0]?.method, "POST");
});

test("an upstream the test host does not know is the host's clear error, as in production", async () => {
  const lost = webFunction({
    name: "lost",
    handler: async () => {
      await http.invoke({ upstream: "nowhere", url: "/" });
    },
  });
  const response = await testWebFunction(lost);
  assert.equal(response.status, 500);
  assert.match((response.error as Error).message, /no upstream named nowhere/);
});

test("a fake capability plugs in as named host calls, and may hand back Data held by the test host", async () => {
  const store = new Map<string, Uint8Array>();
  const fakeStore = {
    hostCalls: {
      "kv.set": (args: unknown, invocation: import("@switchboard/sdk/testing").TestInvocation) => {
        const { key, value } = args as { key: string; value: { id: number } | { bytes: Uint8Array } };
        store.set(key, "bytes" in value ? value.bytes : invocation.data.read(value.id));
      },
      "kv.get": (args: unknown, invocation: import("@switchboard/sdk/testing").TestInvocation) => {
        const bytes = store.get((args as { key: string }).key);
        return bytes === undefined ? null : invocation.data.put(bytes);
      },
    },
  };
  const bridgeKey = Symbol.for("switchboard.host-bridge");
  const call = (op: string, args: unknown) =>
    (
      (globalThis as Record<symbol, unknown>)[bridgeKey] as {
        call(op: string, args: unknown): Promise<unknown>;
      }
    ).call(op, args);
  const remember = webFunction({
    name: "remember",
    input: "data",
    handler: async (body) => {
      await call("kv.set", { key: "k", value: Data.refOf(body) });
      const id = (await call("kv.get", { key: "k" })) as number;
      return Data.fromHost(id);
    },
  });
  const response = await testWebFunction(remember, { body: "kept" }, { capabilities: [fakeStore] });
  assert.equal(response.text, "kept");
  assert.equal(Buffer.from(store.get("k") ?? []).toString(), "kept");
  assert.throws(
    () => new WebTestHost({ capabilities: [fakeStore], hostCalls: { "kv.get": () => null } }),
    /registered twice/,
  );
});

test("invocations running at once each see their own host", async () => {
  const slow = webFunction({
    name: "slow",
    input: "text",
    handler: async (tag) => {
      const response = await http.invoke({ url: `http://upstream.test/${tag}` });
      return response.body.text();
    },
  });
  const a = new WebTestHost({ functions: [slow] });
  const b = new WebTestHost({ functions: [slow] });
  a.mock.on({ url: /\/x$/ }).reply(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { body: "from a" };
  });
  b.mock.on({ url: /\/y$/ }).reply({ body: "from b" });
  const [ra, rb] = await Promise.all([a.request(slow, { body: "x" }), b.request(slow, { body: "y" })]);
  assert.equal(ra.text, "from a");
  assert.equal(rb.text, "from b");
  assert.equal(a.calls.length, 1);
  assert.equal(b.calls.length, 1);
});

test("a host capability used outside any invocation still says so clearly", async () => {
  await assert.rejects(
    http.invoke({ url: "http://upstream.test/" }),
    /outside an invocation|host capability/,
  );
});
