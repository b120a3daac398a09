import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { countingUpstream } from "./support/cache-host.js";
import { startHost } from "./support/start-host.js";

const EXAMPLE = new URL("../../../examples/cached-embeddings/", import.meta.url);

/** The example's module.yaml (function and memory cache), with the module path made absolute. */
function exampleDocuments(): string[] {
  const text = readFileSync(new URL("module.yaml", EXAMPLE), "utf8").replace(
    "module: ./functions.ts",
    `module: ${new URL("functions.ts", EXAMPLE).pathname}`,
  );
  return text.split(/^---$/m);
}

test("examples/cached-embeddings calls the upstream once per prompt and relays cached bodies without reading them", async (t) => {
  const upstream = await countingUpstream();
  t.after(() => upstream.close());
  const seen: Array<{ authorization?: string; input: string }> = [];
  // 1536 floats, as text-embedding-3-small answers: far above the module's dataBytes (1024).
  const vector = Array.from({ length: 1536 }, (_, index) => Number((Math.sin(index) / 10).toFixed(8)));
  upstream.answer = async (request, body) => {
    const { input } = JSON.parse(body) as { input: string };
    seen.push({
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      input,
    });
    return {
      status: 200,
      body: JSON.stringify({
        data: [{ embedding: vector, index: 0 }],
        model: "text-embedding-3-small",
        input,
      }),
    };
  };
  process.env.OPENAI_API_KEY = "sk-cached-example";
  process.env.OPENAI_BASE_URL = upstream.url;
  t.after(() => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
  });
  const { url } = await startHost(t, exampleDocuments());
  const embed = (input: string) =>
    fetch(`${url}/embed-cached`, { method: "POST", body: JSON.stringify({ input }) });

  const first = await embed("hello world");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-cache"), "miss");
  const firstBody = await first.text();
  assert.ok(firstBody.length > 1024, "the body is larger than the function may read");
  assert.deepEqual(
    (JSON.parse(firstBody) as { data: Array<{ embedding: number[] }> }).data[0]?.embedding,
    vector,
  );

  const second = await embed("hello world");
  assert.equal(second.status, 200);
  assert.equal(second.headers.get("x-cache"), "hit");
  assert.equal(await second.text(), firstBody);
  assert.equal(upstream.calls, 1, "the second call never reached the upstream");

  const other = await embed("another prompt");
  assert.equal(other.headers.get("x-cache"), "miss");
  await other.text();
  assert.equal(upstream.calls, 2);
  assert.deepEqual(seen, [
    { authorization: "Bearer sk-cached-example", input: "hello world" },
    { authorization: "Bearer sk-cached-example", input: "another prompt" },
  ]);

  upstream.answer = async () => ({ status: 429, body: '{"error":{"message":"slow down"}}' });
  const limited = await embed("rate limited");
  assert.equal(limited.status, 429, "an upstream error passes through");
  assert.match(await limited.text(), /slow down/);
  upstream.answer = async () => ({ status: 200, body: '{"data":[]}' });
  const retried = await embed("rate limited");
  assert.equal(retried.headers.get("x-cache"), "miss", "an upstream error was not cached");
  await retried.text();
});
