/** Hosted functions' outbound calls follow redirects only when asked, and every hop passes the policy. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { upstream } from "./support/http-server.js";
import { moduleDoc, startHost } from "./support/start-host.js";

interface Answer {
  status?: number;
  body?: string;
  code?: string;
  message?: string;
}

test("a 302 is the function's answer unless it asks to follow; following stays within outbound.allow", async (t) => {
  const seenByB: string[] = [];
  const b = await upstream(t, (request, response) => {
    seenByB.push(`${request.url} ${request.headers.authorization ?? "-"}`);
    response.end("at b");
  });
  const a = await upstream(t, (request, response) => {
    if (request.url === "/local") response.writeHead(302, { location: "/here" }).end();
    else if (request.url === "/here") response.end("at a");
    else response.writeHead(307, { location: `${b}/there` }).end();
  });
  const port = (url: string) => new URL(url).port;
  const { url } = await startHost(t, [
    moduleDoc([
      `outbound: { allow: ["http://127.0.0.1:${port(a)}", "http://127.0.0.1:${port(b)}"] }`,
      `upstreams: { a: { url: "${a}", headers: { authorization: "Bearer upstream-secret" } } }`,
    ]),
  ]);
  const follow = async (query: Record<string, string>): Promise<Answer> =>
    (await (await fetch(`${url}/follow?${new URLSearchParams(query)}`)).json()) as Answer;

  assert.deepEqual(await follow({ url: `${a}/local` }), { status: 302, body: "" });
  assert.deepEqual(await follow({ url: `${a}/local`, hops: "2" }), { status: 200, body: "at a" });
  assert.deepEqual(await follow({ url: `${a}/away`, hops: "2" }), { status: 200, body: "at b" });
  assert.deepEqual(seenByB, ["/there -"]);

  // Through an upstream, whose headers carry secrets, a hop off its origin is refused.
  const viaUpstream = await follow({ upstream: "a", url: "/away", hops: "2" });
  assert.equal(viaUpstream.code, "SB_HOST_OUTBOUND_BAD_URL");
  assert.deepEqual(seenByB, ["/there -"]);
  assert.deepEqual(await follow({ upstream: "a", url: "/local", hops: "2" }), { status: 200, body: "at a" });

  const tooMany = await follow({ url: `${a}/local`, hops: "11" });
  assert.equal(tooMany.code, "SB_HOST_BAD_INPUT");
});

test("the outbound policy is checked again at every hop", async (t) => {
  let reachedB = 0;
  const b = await upstream(t, (_request, response) => {
    reachedB++;
    response.end("at b");
  });
  const a = await upstream(t, (_request, response) =>
    response.writeHead(307, { location: `${b}/there` }).end(),
  );
  const { url } = await startHost(t, [
    moduleDoc([`outbound: { allow: ["http://127.0.0.1:${new URL(a).port}"] }`]),
  ]);
  const answer = (await (
    await fetch(`${url}/follow?${new URLSearchParams({ url: `${a}/start`, hops: "3" })}`)
  ).json()) as Answer;
  assert.equal(answer.code, "SB_HOST_OUTBOUND_REFUSED");
  assert.match(answer.message ?? "", /outbound\.allow/);
  assert.equal(reachedB, 0);
});
