/**
 * The two web functions bench/web-cache.ts compares: the same upstream call made every time
 * (`direct`), and memoised with cache.getOrSet (`cached`). Both relay the body as a Data.
 * The key is the path suffix; the upstream comes from BENCH_UPSTREAM.
 */
import { cache, http, webFunction } from "@switchboard/sdk";

const upstream = process.env.BENCH_UPSTREAM ?? "";

const fetchUpstream = async (key: string) => (await http.invoke({ url: `${upstream}${key}` })).body;

export const direct = webFunction({
  name: "direct",
  handler: (_body, request) => fetchUpstream(request.path),
});

export const cached = webFunction({
  name: "cached",
  handler: (_body, request) => cache.getOrSet(request.path, 600_000, () => fetchUpstream(request.path)),
});
