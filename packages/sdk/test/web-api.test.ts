import assert from "node:assert/strict";
import { test } from "node:test";
import { Data, formatSse, http, json, SdkError, WebResponse, webFunction } from "@switchboard/sdk";

test("server-sent events are framed, multi-line data split, CR/LF in fields refused", () => {
  assert.equal(
    formatSse({ event: "tick", id: "7", data: "a\nb", retry: 1500 }),
    "event: tick\nid: 7\nretry: 1500\ndata: a\ndata: b\n\n",
  );
  assert.equal(formatSse({ data: "" }), "data: \n\n");
  assert.throws(() => formatSse({ event: "a\nb", data: "x" }), /CR, LF or NUL/);
  assert.throws(() => formatSse({ id: "1" }), /event name or data/);
});

test("WebResponse keeps repeated headers and sets a content type only when none is set", () => {
  const response = new WebResponse(202).header("Set-Cookie", "a=1").header("set-cookie", "b=2").body("hi");
  assert.equal(response.statusCode, 202);
  assert.deepEqual(response.headerList, [
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["content-type", "text/plain; charset=utf-8"],
  ]);
  const typed = new WebResponse().header("content-type", "application/xml").body("<a/>");
  assert.deepEqual(typed.headerList, [["content-type", "application/xml"]]);
  assert.throws(() => new WebResponse(99), RangeError);
});

test("web function names are checked at definition", () => {
  assert.throws(() => webFunction({ name: "has space", handler: () => undefined }), SdkError);
  const fn = webFunction({ name: "ok.name-1", input: json(), handler: (value) => value as object });
  assert.equal(fn.name, "ok.name-1");
});

test("host capabilities outside the host fail with SB_SDK_NO_HOST; local Data works anywhere", async () => {
  await assert.rejects(
    http.invoke({ url: "http://127.0.0.1:1/" }),
    (error: SdkError) => error.code === "SB_SDK_NO_HOST",
  );
  const data = Data.from('{"a":1}');
  assert.equal(data.inHost, false);
  assert.deepEqual(await data.json(), { a: 1 });
  await assert.rejects(Data.from("nope").json(), (error: SdkError) => error.code === "SB_SDK_BAD_INPUT");
});
