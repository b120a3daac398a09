import assert from "node:assert/strict";
import { test } from "node:test";
import { OutboundPolicy, parseHostPattern } from "../src/host/outbound-policy.js";

function refusedRule(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { details?: { rule?: string } }).details?.rule;
  }
}

test("allow-list patterns match scheme, host (with *. subdomains) and port", () => {
  const policy = new OutboundPolicy(
    ["https://api.example.com", "https://*.cdn.example.com", "http://127.0.0.1:*"],
    false,
  );
  const check = (url: string) => refusedRule(() => policy.check(new URL(url)));
  assert.equal(check("https://api.example.com/v1"), undefined);
  assert.equal(check("https://api.example.com:443/v1"), undefined);
  assert.equal(check("https://api.example.com:8443/v1"), "outbound.allow");
  assert.equal(check("http://api.example.com/v1"), "outbound.allow");
  assert.equal(check("https://a.cdn.example.com/x"), undefined);
  assert.equal(check("https://cdn.example.com/x"), "outbound.allow");
  assert.equal(check("https://evilcdn.example.com/x"), "outbound.allow");
  assert.equal(check("http://127.0.0.1:9/"), undefined);
});

test("malformed allow-list entries are refused with an example of the form", () => {
  assert.throws(() => parseHostPattern("api.example.com"), /host pattern like/);
  assert.throws(() => parseHostPattern("ftp://x"), /host pattern like/);
});

test("addresses written in any form of link-local or metadata are refused unless allowed", () => {
  const strict = new OutboundPolicy(undefined, false);
  const open = new OutboundPolicy(undefined, true);
  for (const url of [
    "http://169.254.169.254/",
    "http://2852039166/",
    "http://[fe80::1%25eth0]/",
    "http://[::ffff:a9fe:101]/",
  ]) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // a form this Node's URL parser rejects cannot be called either
    }
    assert.ok(
      refusedRule(() => strict.check(parsed)),
      url,
    );
    assert.equal(
      refusedRule(() => open.check(parsed)),
      undefined,
      url,
    );
  }
  assert.equal(
    refusedRule(() => strict.check(new URL("http://10.0.0.1/"))),
    undefined,
  );
});

test("a hostname resolving to a link-local or metadata address is refused", async () => {
  const addresses: Record<string, string[]> = {
    "sneaky.example": ["203.0.113.5", "169.254.169.254"],
    "linklocal.example": ["fe80::2"],
    "fine.example": ["203.0.113.7"],
  };
  const policy = new OutboundPolicy(undefined, false, async (host) =>
    (addresses[host] ?? []).map((address) => ({ address })),
  );
  const rule = async (url: string) => {
    try {
      await policy.checkResolved(new URL(url));
      return undefined;
    } catch (error) {
      return (error as { details?: { rule?: string } }).details?.rule;
    }
  };
  assert.equal(await rule("http://sneaky.example/"), "cloud-metadata");
  assert.equal(await rule("http://linklocal.example/"), "link-local");
  assert.equal(await rule("http://fine.example/"), undefined);
});
