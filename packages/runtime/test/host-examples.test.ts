/**
 * One end-to-end test per example through the real host (workers, transport, loopback upstream).
 * The examples' behaviour in detail is tested in-process in packages/sdk/test/examples-web.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type TestContext, test } from "node:test";
import { upstream } from "./support/http-server.js";
import { startHost } from "./support/start-host.js";

const EXAMPLES = new URL("../../../examples/", import.meta.url);

/** An upstream whose handler gets the request body read in full. */
function upstreamWithBody(
  t: TestContext,
  handler: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void,
): Promise<string> {
  return upstream(t, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handler(request, response, Buffer.concat(chunks)));
  });
}

/** The example's own module.yaml, with the module path made absolute. */
function exampleModule(name: string): string {
  const dir = new URL(`${name}/`, EXAMPLES);
  return readFileSync(new URL("module.yaml", dir), "utf8").replace(
    "module: ./functions.ts",
    `module: ${new URL("functions.ts", dir).pathname}`,
  );
}

function withEnv(t: TestContext, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[name] = value;
  t.after(() => {
    for (const name of Object.keys(values)) delete process.env[name];
  });
}

test("examples/embeddings posts documents with the bearer token and returns vectors sorted by index", async (t) => {
  const key = "sk-example-8c1e0d55";
  let seen: { authorization?: string; body?: unknown; path?: string } = {};
  const base = await upstreamWithBody(t, (request, response, body) => {
    seen = {
      authorization: request.headers.authorization,
      body: JSON.parse(body.toString()),
      path: request.url,
    };
    response.writeHead(200, { "content-type": "application/json" });
    // Out of order on purpose: the function sorts by index.
    response.end(
      JSON.stringify({
        data: [
          { embedding: [0.3, 0.4], index: 1 },
          { embedding: [0.1, 0.2], index: 0 },
        ],
      }),
    );
  });
  withEnv(t, { OPENAI_API_KEY: key, OPENAI_BASE_URL: base });
  const { url } = await startHost(t, [exampleModule("embeddings")]);
  const response = await fetch(`${url}/embed`, { method: "POST", body: JSON.stringify(["hello", "world"]) });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), [
    { embedding: [0.1, 0.2], index: 0 },
    { embedding: [0.3, 0.4], index: 1 },
  ]);
  assert.equal(seen.authorization, `Bearer ${key}`);
  assert.equal(seen.path, "/v1/embeddings");
  assert.deepEqual(seen.body, {
    model: "text-embedding-3-small",
    encoding_format: "float",
    input: ["hello", "world"],
  });

  const bad = await fetch(`${url}/embed`, { method: "POST", body: JSON.stringify([42]) });
  assert.equal(bad.status, 400);
});

test("examples/proxy relays method, path, query, body and chosen headers both ways", async (t) => {
  const base = await upstreamWithBody(t, (request, response, body) => {
    response.writeHead(201, { "content-type": "text/plain", etag: '"v1"', "x-internal": "dropped" });
    response.end(`${request.method} ${request.url} ${request.headers["content-type"]} ${body.toString()}`);
  });
  withEnv(t, { PROXY_ORIGIN: base });
  const { url } = await startHost(t, [exampleModule("proxy")]);
  const response = await fetch(`${url}/proxy/items/7?a=1&a=2`, {
    method: "PUT",
    headers: { "content-type": "text/plain" },
    body: "payload",
  });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("etag"), '"v1"');
  assert.equal(response.headers.get("x-internal"), null);
  assert.equal(await response.text(), "PUT /items/7?a=1&a=2 text/plain payload");
});
