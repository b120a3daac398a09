/** Web functions that use every cache host call (host-cache.test.ts). */
import { type CacheCondition, cache, http, json, WebResponse, webFunction } from "@switchboard/sdk";
import { z } from "zod";

const Op = z.object({
  op: z.enum([
    "get",
    "getBytes",
    "getString",
    "getJson",
    "getJsonChecked",
    "getEntry",
    "set",
    "setBytes",
    "setJson",
    "setIf",
    "delete",
  ]),
  key: z.string(),
  value: z.unknown().optional(),
  ttlMs: z.number().optional(),
  condition: z.unknown().optional(),
});

const Point = z.object({ x: z.number(), y: z.number() });

/** Runs one cache call and answers what it returned, or the error code it threw. */
export const cacheOp = webFunction({
  name: "cache-op",
  input: json(Op),
  handler: async ({ op, key, value, ttlMs, condition }) => {
    try {
      switch (op) {
        case "get": {
          const data = await cache.get(key);
          return { found: data !== undefined, inHost: data?.inHost, text: await data?.text() };
        }
        case "getBytes":
          return { bytes: [...((await cache.getBytes(key)) ?? [])] };
        case "getString":
          return { text: (await cache.getString(key)) ?? null };
        case "getJson":
          return { json: (await cache.getJson(key)) ?? null };
        case "getJsonChecked":
          return { json: (await cache.getJson(key, Point)) ?? null };
        case "getEntry": {
          const entry = await cache.getEntry(key);
          if (!entry) return { found: false };
          return {
            found: true,
            text: await entry.value.text(),
            version: entry.version,
            ttlRemainingMs: entry.ttlRemainingMs,
          };
        }
        case "set":
          return { version: await cache.set(key, value as string, ttlMs) };
        case "setBytes":
          return { version: await cache.set(key, new Uint8Array(value as number[]), ttlMs) };
        case "setJson":
          return { version: await cache.setJson(key, value, ttlMs) };
        case "setIf":
          return await cache.setIf(key, value as string, condition as CacheCondition, ttlMs);
        case "delete":
          return { deleted: await cache.delete(key) };
      }
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { error: code ?? "none", message };
    }
  },
});

/** getOrSet whose loader fetches `?upstream=`; answers the cached bytes as a Data (relayed, not read). */
export const memo = webFunction({
  name: "memo",
  input: "text",
  handler: async (key, request) => {
    const upstream = request.query.upstream?.[0] ?? "";
    const ttlMs = Number(request.query.ttl?.[0] ?? 60_000);
    const stale = request.query.stale?.[0];
    try {
      const data = await cache.getOrSet(
        key,
        ttlMs,
        async () => {
          const response = await http.invoke({ url: upstream, method: "POST", body: key });
          if (response.status !== 200)
            throw Object.assign(new Error(`upstream said ${response.status}`), { code: "UPSTREAM" });
          return response.body;
        },
        stale === undefined ? {} : { staleWhileRevalidateMs: Number(stale) },
      );
      return new WebResponse(200).header("content-type", "text/plain").body(data);
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return new WebResponse(502).json({ error: code ?? "none", message });
    }
  },
});

/** getOrSetJson with a schema; the loader is local. */
export const memoJson = webFunction({
  name: "memo-json",
  input: "text",
  handler: async (key) => {
    let loads = 0;
    const point = await cache.getOrSetJson(
      key,
      60_000,
      () => {
        loads++;
        return { x: 1, y: 2 };
      },
      { schema: Point },
    );
    return { point, loads };
  },
});

/** Stores an upstream body straight from the host (a Data never read), then answers it from the cache. */
export const relayCached = webFunction({
  name: "relay-cached",
  input: "text",
  handler: async (key, request) => {
    const upstream = request.query.upstream?.[0] ?? "";
    try {
      const response = await http.invoke({ url: upstream });
      await cache.set(key, response.body, 60_000);
      const cached = await cache.get(key);
      return new WebResponse(200).header("x-in-host", String(cached?.inHost)).body(cached ?? "missing");
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return new WebResponse(500).json({ error: code ?? "none", message });
    }
  },
});
