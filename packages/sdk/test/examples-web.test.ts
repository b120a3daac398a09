/**
 * The web examples, tested in-process with WebTestHost: no host, no upstream server. Each
 * example also has one end-to-end test through the real host (packages/runtime/test/host-examples.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock, fakeCacheCapability, WebTestHost } from "@switchboard/sdk/testing";
import { embedCached } from "../../../examples/cached-embeddings/functions.js";
import { embed } from "../../../examples/embeddings/functions.js";
import { proxy } from "../../../examples/proxy/functions.js";

/** As examples/embeddings/module.yaml resolves it, with a key of our own. */
function embeddingsHost(): WebTestHost {
  return new WebTestHost({
    functions: [embed],
    upstreams: { openai: { url: "https://api.openai.com", headers: { authorization: "Bearer sk-test" } } },
  });
}

const EMBEDDINGS = {
  method: "POST",
  url: "https://api.openai.com/v1/embeddings",
  headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
};

test("embed sends the documents with the model and the host's bearer token, and sorts vectors by index", async () => {
  const host = embeddingsHost();
  const route = host.mock
    .on({
      ...EMBEDDINGS,
      json: { model: "text-embedding-3-small", encoding_format: "float", input: ["hello", "world"] },
    })
    .reply({
      json: {
        data: [
          { embedding: [0.3], index: 1 },
          { embedding: [0.1], index: 0 },
        ],
      },
    });
  const response = await host.request(embed, { json: ["hello", "world"] });
  assert.equal(response.status, 200);
  assert.deepEqual(response.json(), [
    { embedding: [0.1], index: 0 },
    { embedding: [0.3], index: 1 },
  ]);
  route.assertCalled(1);
});

test("embed passes the upstream's error status and body through", async () => {
  const host = embeddingsHost();
  host.mock.on(EMBEDDINGS).reply({ status: 429, json: { error: { message: "slow down" } } });
  const response = await host.request(embed, { json: ["hello"] });
  assert.equal(response.status, 429);
  assert.equal(response.header("content-type"), "application/json");
  assert.deepEqual(response.json(), { error: { message: "slow down" } });
});

test("embed refuses what is not a non-empty list of non-empty strings, without calling the upstream", async () => {
  const host = embeddingsHost();
  for (const body of [[], [42], [""], "hello"]) {
    const response = await host.request(embed, { json: body });
    assert.equal(response.status, 400, JSON.stringify(body));
  }
  assert.equal(host.calls.length, 0);
});

function proxyHost(): WebTestHost {
  return new WebTestHost({ functions: [proxy], upstreams: { origin: { url: "http://origin.test" } } });
}

test("proxy forwards method, path, query, body and chosen request headers only", async () => {
  const host = proxyHost();
  host.mock
    .on({
      method: "PUT",
      url: "http://origin.test/items/7?a=1&a=2",
      headers: { "content-type": "text/plain", cookie: false, "x-private": false },
      body: "payload",
    })
    .reply({ status: 201, body: "stored" });
  const response = await host.request(proxy, {
    method: "PUT",
    path: "/items/7?a=1&a=2",
    headers: { "content-type": "text/plain", cookie: "session=1", "x-private": "no" },
    body: "payload",
  });
  assert.equal(response.status, 201);
  assert.equal(response.text, "stored");
});

test("proxy relays chosen response headers (repeats kept) and drops the rest", async () => {
  const host = proxyHost();
  host.mock.on({ method: "GET", url: "http://origin.test/" }).reply({
    headers: { etag: '"v1"', "cache-control": ["public", "max-age=60"], "x-internal": "secret" },
    body: "home",
  });
  const response = await host.request(proxy);
  assert.equal(response.header("etag"), '"v1"');
  assert.deepEqual(response.headers["cache-control"], ["public", "max-age=60"]);
  assert.equal(response.header("x-internal"), undefined);
});

test("proxy sends no body on GET, even when the caller sent one", async () => {
  const host = proxyHost();
  const route = host.mock
    .on({ method: "GET", url: "http://origin.test/x", where: (call) => call.body.length === 0 })
    .reply({ status: 204 });
  const response = await host.request(proxy, { method: "GET", path: "/x", body: "ignored" });
  assert.equal(response.status, 204);
  route.assertCalled(1);
});

test("embed-cached asks the upstream once per prompt, until its hour is over", async () => {
  const clock = new FakeClock(0);
  const caching = fakeCacheCapability({ clock });
  const host = new WebTestHost({
    functions: [embedCached],
    upstreams: { openai: { url: "https://api.openai.com", headers: { authorization: "Bearer sk-test" } } },
    capabilities: [caching],
  });
  const route = host.mock
    .on({ ...EMBEDDINGS, json: { model: "text-embedding-3-small", encoding_format: "float", input: "hi" } })
    .reply({ json: { data: [{ embedding: [0.5], index: 0 }] } });
  const first = await host.request(embedCached, { json: { input: "hi" } });
  const second = await host.request(embedCached, { json: { input: "hi" } });
  assert.deepEqual([first.header("x-cache"), second.header("x-cache")], ["miss", "hit"]);
  assert.deepEqual(second.json(), first.json());
  route.assertCalled(1);
  assert.equal(caching.cache.size, 1);
  clock.set(60 * 60 * 1000);
  const third = await host.request(embedCached, { json: { input: "hi" } });
  assert.equal(third.header("x-cache"), "miss");
  route.assertCalled(2);
});

test("embed-cached does not cache an upstream error", async () => {
  const caching = fakeCacheCapability();
  const host = new WebTestHost({
    functions: [embedCached],
    upstreams: { openai: { url: "https://api.openai.com", headers: { authorization: "Bearer sk-test" } } },
    capabilities: [caching],
  });
  host.mock.on(EMBEDDINGS).reply({ status: 500, json: { error: "down" } });
  assert.equal((await host.request(embedCached, { json: { input: "hi" } })).status, 500);
  assert.equal(caching.cache.size, 0);
});
