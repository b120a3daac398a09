/**
 * The seed's memoisation pattern: embeddings cached by a SHA-256 hash of the prompt, so the
 * same prompt reaches OpenAI once per TTL. POST {"input": "..."} to /functions/embed-cached.
 * The upstream's JSON never enters this function: on a miss its body (a Data handle) is
 * stored in the cache host-side and relayed to the caller; on a hit the cached bytes are
 * relayed the same way. module.yaml sets limits.dataBytes low to prove it.
 */
import { createHash } from "node:crypto";
import { cache, http, json, WebResponse, webFunction } from "@switchboard/sdk";
import { z } from "zod";

const MODEL = "text-embedding-3-small";
const ONE_HOUR_MS = 60 * 60 * 1000;

const Prompt = z.object({ input: z.string().min(1).max(32_768) });

export const embedCached = webFunction({
  name: "embed-cached",
  input: json(Prompt),
  handler: async ({ input }) => {
    const hash = createHash("sha256").update(input).digest("hex");
    const key = `openai:embed:${MODEL}:${hash}`;
    const cached = await cache.get(key);
    if (cached) return embedding(cached, "hit");

    const response = await http.invoke({
      upstream: "openai",
      url: "/v1/embeddings",
      method: "POST",
      json: { model: MODEL, encoding_format: "float", input },
    });
    if (response.status !== 200) {
      // Not cached: the caller sees what OpenAI said, and the next call tries again.
      return new WebResponse(response.status).header("content-type", "application/json").body(response.body);
    }
    await cache.set(key, response.body, ONE_HOUR_MS);
    return embedding(response.body, "miss");
  },
});

function embedding(body: Parameters<WebResponse["body"]>[0], cacheStatus: "hit" | "miss"): WebResponse {
  return new WebResponse(200)
    .header("content-type", "application/json")
    .header("x-cache", cacheStatus)
    .body(body);
}
