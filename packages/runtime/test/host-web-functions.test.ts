import assert from "node:assert/strict";
import { test } from "node:test";
import { moduleDoc, recordingLogger, startHost } from "./support/start-host.js";

test("a text web function answers 200 text/plain and sees the body", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const response = await fetch(`${url}/echo-text`, { method: "POST", body: "hello" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await response.text(), "got hello");
});

test("each kind of output maps to its status and content type", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const nothing = await fetch(`${url}/nothing`, { method: "DELETE" });
  assert.equal(nothing.status, 204);
  assert.equal(await nothing.text(), "");

  const bytes = await fetch(`${url}/echo-bytes`, { method: "PUT", body: new Uint8Array([1, 2, 3]) });
  assert.equal(bytes.status, 200);
  assert.equal(bytes.headers.get("content-type"), "application/octet-stream");
  assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), new Uint8Array([1, 2, 3]));

  const data = await fetch(`${url}/made-data`);
  assert.equal(data.headers.get("content-type"), "application/octet-stream");
  assert.equal(await data.text(), "local bytes");

  const jsonOut = await fetch(`${url}/order`, {
    method: "POST",
    body: JSON.stringify({ item: "tea", quantity: 3 }),
  });
  assert.equal(jsonOut.status, 200);
  assert.equal(jsonOut.headers.get("content-type"), "application/json");
  assert.deepEqual(await jsonOut.json(), { total: 6, item: "tea" });

  const built = await fetch(`${url}/built`);
  assert.equal(built.status, 201);
  assert.deepEqual(built.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.deepEqual(await built.json(), { created: true });
});

test("the handler sees method, path suffix, query and repeated headers", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const headers = new Headers();
  headers.append("x-multi", "one");
  headers.append("x-multi", "two");
  const response = await fetch(`${url}/inspect/a/b%20c?k=1&k=2&z=`, { method: "PATCH", headers, body: "x" });
  assert.equal(response.status, 200);
  const seen = (await response.json()) as Record<string, unknown>;
  assert.equal(seen.method, "PATCH");
  assert.equal(seen.name, "inspect");
  assert.equal(seen.path, "/a/b%20c");
  assert.deepEqual(seen.query, { k: ["1", "2"], z: [""] });
  // fetch joins repeated request headers into one line; raw repeats are covered below.
  assert.ok(Array.isArray(seen.multi));
  assert.equal(typeof seen.first, "string");
});

test("repeated request headers reach the handler as separate values", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const { connect } = await import("node:net");
  const target = new URL(`${url}/inspect`);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(
        `GET ${target.pathname} HTTP/1.1\r\nHost: x\r\nx-multi: one\r\nX-Multi: two\r\nConnection: close\r\n\r\n`,
      );
    });
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
  const seen = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) as { multi: string[]; first: string };
  assert.deepEqual(seen.multi, ["one", "two"]);
  assert.equal(seen.first, "one");
});

test("a body that is not JSON gets a 400 saying so, and the handler does not run", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const response = await fetch(`${url}/order`, { method: "POST", body: "{not json" });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "SB_HOST_BAD_INPUT");
  assert.match(body.error.message, /not valid JSON/);
});

test("a body failing the schema gets a 400 naming the field and the problem", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const response = await fetch(`${url}/order`, {
    method: "POST",
    body: JSON.stringify({ item: "tea", quantity: -1 }),
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "SB_HOST_BAD_INPUT");
  assert.match(body.error.message, /quantity/);
  assert.match(body.error.message, /schema/);
});

test("a throwing function gets a 500 with only an error id; the log has the error under that id", async (t) => {
  const logger = recordingLogger();
  const { url } = await startHost(t, [moduleDoc()], logger);
  const response = await fetch(`${url}/fails`);
  assert.equal(response.status, 500);
  const text = await response.text();
  assert.doesNotMatch(text, /hunter2|database/);
  const body = JSON.parse(text) as { error: { code: string; errorId: string } };
  assert.equal(body.error.code, "SB_HOST_FUNCTION_FAILED");
  const line = logger.lines.find((entry) => entry.includes(body.error.errorId));
  assert.ok(line, "the error id is in the log");
  assert.match(line, /hunter2/);
  // Other invocations are unaffected.
  assert.equal((await fetch(`${url}/echo-text`, { method: "POST", body: "x" })).status, 200);
});

test("unknown web functions and paths outside /functions/ are 404s", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const unknown = await fetch(`${url}/nope`);
  assert.equal(unknown.status, 404);
  assert.equal(
    ((await unknown.json()) as { error: { code: string } }).error.code,
    "SB_HOST_UNKNOWN_WEB_FUNCTION",
  );
  const outside = await fetch(url.replace("/functions", "/other"));
  assert.equal(outside.status, 404);
  assert.equal(((await outside.json()) as { error: { code: string } }).error.code, "SB_HOST_BAD_PATH");
});

test("a streamed response arrives in chunks, and server-sent events are framed", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  const chunks = await fetch(`${url}/chunks`);
  assert.equal(chunks.status, 200);
  assert.equal(await chunks.text(), "part 0\npart 1\npart 2\n");
  const events = await fetch(`${url}/events`);
  assert.equal(events.headers.get("content-type"), "text/event-stream");
  assert.equal(events.headers.get("cache-control"), "no-cache");
  assert.equal(await events.text(), "event: greeting\ndata: hello\ndata: world\n\nid: 2\ndata: bye\n\n");
});

test("only web functions listed under `web` are served", async (t) => {
  const { url } = await startHost(t, [moduleDoc(["web: [echo-text]"])]);
  assert.equal((await fetch(`${url}/echo-text`, { method: "POST", body: "a" })).status, 200);
  assert.equal((await fetch(`${url}/nothing`)).status, 404);
});

test("a body over the listener's maxBodyBytes gets a 413 and the function does not run", async (t) => {
  const { url } = await startHost(t, [moduleDoc()], undefined, "port: 0, maxBodyBytes: 16");
  const response = await fetch(`${url}/echo-text`, { method: "POST", body: "x".repeat(17) });
  assert.equal(response.status, 413);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "SB_HOST_BODY_TOO_LARGE");
  assert.equal((await fetch(`${url}/echo-text`, { method: "POST", body: "short" })).status, 200);
});

test("a Data body is read into the function only up to limits.dataBytes", async (t) => {
  const logger = recordingLogger();
  const { url } = await startHost(t, [moduleDoc(["limits: { dataBytes: 1024 }"])], logger);
  const small = await fetch(`${url}/read-all`, { method: "POST", body: "x".repeat(1000) });
  assert.equal(await small.text(), "1000");
  const large = await fetch(`${url}/read-all`, { method: "POST", body: "x".repeat(5000) });
  assert.equal(large.status, 500);
  assert.match(logger.lines.join("\n"), /SB_HOST_DATA_TOO_LARGE|limits\.dataBytes/);
});
