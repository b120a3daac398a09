/** Redirects: which the transport follows, where, with what, and within which budget. */
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { startServer } from "./support/http-server.js";
import { tempDir } from "./support/temp-dir.js";
import { transportFor } from "./support/test-transport.js";
import { options } from "./support/transport-options.js";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly authorization?: string;
  readonly contentType?: string;
}

/** A loopback server that records every request and answers with `answer`. */
async function recordingServer(
  t: TestContext,
  answer: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.push({
        method: request.method ?? "",
        url: request.url ?? "",
        body: Buffer.concat(chunks).toString(),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(request.headers["content-type"] ? { contentType: request.headers["content-type"] } : {}),
      });
      answer(request, response);
    });
  });
  t.after(() => server.close());
  return { url: server.url, seen };
}

const text = (response: { body: Uint8Array }) => Buffer.from(response.body).toString();
const post = {
  method: "POST",
  body: "payload",
  headers: { authorization: "Bearer t0k", "content-type": "text/plain" },
};

test("307 and 308 are followed with method, body and headers; credentials stay with their origin", async (t) => {
  const target = await recordingServer(t, (_request, response) => response.writeHead(200).end("moved here"));
  const origin = await recordingServer(t, (request, response) => {
    if (request.url === "/fn") response.writeHead(308, { location: "/fn-v2" }).end();
    else response.writeHead(307, { location: `${target.url}/elsewhere?x=1` }).end();
  });
  const transport = transportFor(t);
  const answer = await transport.exchange(
    { url: `${origin.url}/fn`, ...post, options: options(), maxRedirects: 5 },
    text,
  );
  assert.equal(answer, "moved here");
  assert.deepEqual(origin.seen, [
    { method: "POST", url: "/fn", body: "payload", authorization: "Bearer t0k", contentType: "text/plain" },
    {
      method: "POST",
      url: "/fn-v2",
      body: "payload",
      authorization: "Bearer t0k",
      contentType: "text/plain",
    },
  ]);
  // Another port is another origin: the body goes along, the credentials do not.
  assert.deepEqual(target.seen, [
    { method: "POST", url: "/elsewhere?x=1", body: "payload", contentType: "text/plain" },
  ]);
});

test("without maxRedirects a 307 is the answer, as before", async (t) => {
  const origin = await recordingServer(t, (_request, response) =>
    response.writeHead(307, { location: "/other" }).end(),
  );
  const transport = transportFor(t);
  await assert.rejects(
    transport.exchange({ url: `${origin.url}/fn`, ...post, options: options() }, text),
    (error: { code: string; details: { status: number } }) =>
      error.code === "SB_TRANSPORT_HTTP_STATUS" && error.details.status === 307,
  );
  assert.equal(origin.seen.length, 1);
  const streamed = await transport.request({ url: `${origin.url}/fn`, options: options() });
  assert.equal(streamed.status, 307);
  await streamed.dump();
});

test("301, 302 and 303 are followed for GET but never turn a POST into a GET", async (t) => {
  for (const status of [301, 302, 303]) {
    const origin = await recordingServer(t, (request, response) => {
      if (request.url === "/new") response.writeHead(200).end("new");
      else response.writeHead(status, { location: "/new" }).end();
    });
    const transport = transportFor(t);
    const got = await transport.request({ url: `${origin.url}/old`, options: options(), maxRedirects: 5 });
    assert.equal(await got.text(), "new", `GET ${status}`);
    await assert.rejects(
      transport.exchange({ url: `${origin.url}/old`, ...post, options: options(), maxRedirects: 5 }, text),
      (error: { code: string; details: { status: number } }) =>
        error.code === "SB_TRANSPORT_HTTP_STATUS" && error.details.status === status,
      `POST ${status}`,
    );
    assert.deepEqual(
      origin.seen.map((seen) => `${seen.method} ${seen.url}`),
      ["GET /old", "GET /new", "POST /old"],
    );
  }
});

test("a redirect loop fails at the hop limit with SB_TRANSPORT_TOO_MANY_REDIRECTS", async (t) => {
  const b: { url?: string } = {};
  const a = await recordingServer(t, (_request, response) =>
    response.writeHead(307, { location: `${b.url}/ping` }).end(),
  );
  const bServer = await recordingServer(t, (_request, response) =>
    response.writeHead(307, { location: `${a.url}/pong` }).end(),
  );
  b.url = bServer.url;
  const transport = transportFor(t);
  await assert.rejects(
    transport.exchange({ url: `${a.url}/start`, ...post, options: options(), maxRedirects: 3 }, text),
    (error: { code: string; message: string }) => {
      assert.equal(error.code, "SB_TRANSPORT_TOO_MANY_REDIRECTS");
      assert.match(error.message, /redirected more than 3 times/);
      return true;
    },
  );
  // The first request and three hops, then no more.
  assert.equal(a.seen.length + bServer.seen.length, 4);
});

test("the whole redirect chain runs within the call deadline", async (t) => {
  let hops = 0;
  const slow = await recordingServer(t, (request, response) => {
    hops++;
    const next = Number(request.url?.slice(1)) + 1;
    setTimeout(() => response.writeHead(307, { location: `/${next}` }).end(), 150);
  });
  const transport = transportFor(t);
  await assert.rejects(
    transport.exchange(
      {
        url: `${slow.url}/0`,
        ...post,
        options: options({ callTimeoutMs: 500, readTimeoutMs: 400 }),
        maxRedirects: 20,
      },
      text,
    ),
    (error: { code: string }) => error.code === "SB_TRANSPORT_DEADLINE_EXCEEDED",
  );
  // Each hop alone is well within the read timeout; only the whole chain outlasts `call`.
  assert.ok(hops >= 2 && hops <= 5, `${hops} hops`);
});

test("a relative redirect stays on the UNIX socket; a Location naming a socket is refused", async (t) => {
  const socketPath = join(tempDir(t), "fn.sock");
  const seen: string[] = [];
  const server = await startServer((request, response) => {
    seen.push(request.url ?? "");
    if (request.url === "/a") response.writeHead(307, { location: "b?q=1" }).end();
    else if (request.url === "/b?q=1") response.writeHead(200).end("on the socket");
    else response.writeHead(307, { location: `http+unix://${socketPath}/a` }).end();
  }, socketPath);
  t.after(() => server.close());
  const transport = transportFor(t);
  const answer = await transport.exchange(
    { url: `http+unix://${socketPath}/a`, ...post, options: options(), maxRedirects: 5 },
    text,
  );
  assert.equal(answer, "on the socket");
  assert.deepEqual(seen, ["/a", "/b?q=1"]);
  await assert.rejects(
    transport.exchange(
      { url: `http+unix://${socketPath}/c`, ...post, options: options(), maxRedirects: 5 },
      text,
    ),
    (error: { code: string }) => error.code === "SB_TRANSPORT_BAD_REDIRECT",
  );
});

test("checkRedirect sees every hop before it is sent and can refuse it", async (t) => {
  const origin = await recordingServer(t, (request, response) => {
    if (request.url === "/3") response.writeHead(200).end("end");
    else response.writeHead(307, { location: `/${Number(request.url?.slice(1)) + 1}` }).end();
  });
  const transport = transportFor(t);
  const checked: string[] = [];
  const answer = await transport.exchange(
    {
      url: `${origin.url}/1`,
      ...post,
      options: options(),
      maxRedirects: 5,
      checkRedirect: (url) => {
        checked.push(new URL(url).pathname);
      },
    },
    text,
  );
  assert.equal(answer, "end");
  assert.deepEqual(checked, ["/2", "/3"]);
  const refusal = new Error("not there");
  await assert.rejects(
    transport.exchange(
      {
        url: `${origin.url}/1`,
        ...post,
        options: options(),
        maxRedirects: 5,
        checkRedirect: async () => {
          throw refusal;
        },
      },
      text,
    ),
    (error) => error === refusal,
  );
});
