import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { http, webFunction } from "@switchboard/sdk";
import { recordRequested, WebTestHost } from "@switchboard/sdk/testing";
import { loopback, tempDir } from "./support/loopback.js";

const lookup = webFunction({
  name: "lookup",
  input: "text",
  handler: async (word) => {
    const response = await http.invoke({
      upstream: "dictionary",
      url: `/words/${word}`,
      method: "POST",
      body: word,
    });
    return { status: response.status, tags: response.headers["x-tag"], entry: await response.body.json() };
  },
});

function hostWith(base: string, cassette: string, mode?: "record" | "replay") {
  return new WebTestHost({
    functions: [lookup],
    upstreams: { dictionary: { url: base, headers: { "x-api-token": "tok-secret-1" } } },
    cassette: mode ? { path: cassette, mode } : cassette,
  });
}

test("record mode calls the real upstream once and writes a readable cassette without secrets", async (t) => {
  const dir = tempDir(t);
  const cassette = join(dir, "fixtures", "lookup.json");
  const upstream = await loopback(t, (request, response) => {
    response.setHeader("content-type", "application/json");
    response.setHeader("x-tag", ["a", "b"]);
    response.end(JSON.stringify({ word: request.url?.split("/").pop() }));
  });
  const recorded = await hostWith(upstream.url, cassette, "record").request(lookup, { body: "apple" });
  assert.deepEqual(recorded.json(), {
    status: 200,
    tags: ["a", "b"],
    entry: { word: "apple" },
  });
  assert.equal(upstream.seen.length, 1);
  assert.equal(upstream.seen[0]?.headers["x-api-token"], "tok-secret-1");
  const file = readFileSync(cassette, "utf8");
  assert.doesNotMatch(file, /tok-secret-1/, "the secret header is redacted");
  const parsed = JSON.parse(file) as {
    interactions: Array<{ request: { url: string; headers: Record<string, string[]> } }>;
  };
  assert.equal(parsed.interactions[0]?.request.url, `${upstream.url}/words/apple`);
  assert.deepEqual(parsed.interactions[0]?.request.headers["x-api-token"], ["[redacted]"]);

  // Replay: the upstream is gone; the cassette answers, byte for byte.
  await upstream.close();
  const replayed = await hostWith(upstream.url, cassette).request(lookup, { body: "apple" });
  assert.deepEqual(replayed.json(), recorded.json());
});

test("a replay miss fails the request with the call and the closest recorded call", async (t) => {
  const dir = tempDir(t);
  const cassette = join(dir, "lookup.json");
  const upstream = await loopback(t, (_request, response) => response.end("{}"));
  await hostWith(upstream.url, cassette, "record").request(lookup, { body: "apple" });
  await assert.rejects(
    hostWith(upstream.url, cassette).request(lookup, { body: "pear" }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SB_SDK_REPLAY_MISS");
      assert.match(error.message, /POST http:\/\/127\.0\.0\.1:\d+\/words\/pear/);
      assert.match(error.message, /closest recorded call: #1/);
      assert.match(error.message, /url http:.*\/words\/apple/);
      assert.match(error.message, /x-api-token: <hidden>/);
      assert.match(error.message, /SWITCHBOARD_RECORD=1/);
      return true;
    },
  );
  assert.equal(upstream.seen.length, 1, "replay never touches the network");
});

test("a missing or broken cassette is a clear error naming the file and how to record it", (t) => {
  const dir = tempDir(t);
  assert.throws(() => hostWith("http://127.0.0.1:1", join(dir, "none.json")), {
    code: "SB_SDK_REPLAY_MISS",
    message: /none\.json does not exist: run the test once with SWITCHBOARD_RECORD=1/,
  });
  const broken = join(dir, "broken.json");
  writeFileSync(broken, "{");
  assert.throws(() => hostWith("http://127.0.0.1:1", broken), /broken\.json is not JSON/);
});

test("SWITCHBOARD_RECORD=1 picks record mode when no mode is given", async (t) => {
  const dir = tempDir(t);
  const cassette = join(dir, "env.json");
  const upstream = await loopback(t, (_request, response) => response.end('{"ok":true}'));
  assert.equal(recordRequested({ SWITCHBOARD_RECORD: "1" }), true);
  assert.equal(recordRequested({}), false);
  process.env.SWITCHBOARD_RECORD = "1";
  t.after(() => {
    delete process.env.SWITCHBOARD_RECORD;
  });
  const host = hostWith(upstream.url, cassette);
  assert.equal(host.cassette?.mode, "record");
  await host.request(lookup, { body: "x" });
  assert.equal(existsSync(cassette), true);
  assert.equal(host.cassette?.size, 1);
});

test("mocks answer first; the cassette answers the rest, and repeats replay the last match", async (t) => {
  const dir = tempDir(t);
  const cassette = join(dir, "mixed.json");
  let n = 0;
  const upstream = await loopback(t, (_request, response) => response.end(JSON.stringify({ n: ++n })));
  await hostWith(upstream.url, cassette, "record").request(lookup, { body: "a" });
  const host = hostWith(upstream.url, cassette);
  host.mock.on({ url: /\/words\/b$/ }).reply({ json: { mocked: true } });
  assert.deepEqual((await host.request(lookup, { body: "b" })).json<{ entry: unknown }>().entry, {
    mocked: true,
  });
  assert.deepEqual((await host.request(lookup, { body: "a" })).json<{ entry: unknown }>().entry, { n: 1 });
  assert.deepEqual((await host.request(lookup, { body: "a" })).json<{ entry: unknown }>().entry, { n: 1 });
});
