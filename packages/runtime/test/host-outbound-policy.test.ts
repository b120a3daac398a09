import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { transportDefaults } from "../src/config/transport-defaults.js";
import { OutboundPolicy, parseHostPattern } from "../src/host/outbound-policy.js";
import { addOwnListener } from "../src/io/own-listeners.js";
import { createTransport } from "../src/transport/index.js";
import type { AddressGuard } from "../src/transport/types.js";

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

test("loopback in every spelling is refused unless outbound.allow names the host exactly", () => {
  const open = new OutboundPolicy(undefined, true);
  const spellings = [
    "http://127.0.0.1:8099/api/dead-letters",
    "http://localhost:8099/",
    "http://localhost.:8099/",
    "http://app.localhost:8099/",
    "http://2130706433:8099/",
    "http://0177.0.0.1:8099/",
    "http://0x7f.1:8099/",
    "http://127.1:8099/",
    "http://[::1]:8099/",
    "http://[::ffff:127.0.0.1]:8099/",
    "http://[::ffff:7f00:1]:8099/",
    "http://[::127.0.0.1]:8099/",
    "http://0.0.0.0:8099/",
    "http://0:8099/",
    "http://[::]:8099/",
  ];
  for (const url of spellings) {
    assert.equal(
      refusedRule(() => open.check(new URL(url))),
      "loopback",
      url,
    );
  }
  const named = new OutboundPolicy(["http://127.0.0.1:9000", "http://localhost:*"], false);
  assert.equal(
    refusedRule(() => named.check(new URL("http://127.0.0.1:9000/"))),
    undefined,
  );
  assert.equal(
    refusedRule(() => named.check(new URL("http://2130706433:9000/"))),
    undefined,
    "the same address in another spelling",
  );
  assert.equal(
    refusedRule(() => named.check(new URL("http://127.0.0.1:8099/"))),
    "outbound.allow",
    "another port of a named host is not named",
  );
  assert.equal(
    refusedRule(() => named.check(new URL("http://localhost:8099/"))),
    undefined,
  );
  const wildcard = new OutboundPolicy(["http://*.localhost:*"], false);
  assert.equal(
    refusedRule(() => wildcard.check(new URL("http://app.localhost:80/"))),
    "loopback",
    "a *. pattern does not name a loopback host",
  );
  assert.equal(
    refusedRule(() => open.check(new URL("http://a.example/"), true)),
    undefined,
    "an upstream (named in the YAML) may be anywhere",
  );
  assert.equal(
    refusedRule(() => open.check(new URL("http://127.0.0.1:9000/"), true)),
    undefined,
  );
});

test("Switchboard's own listeners on other interfaces are refused unless named", (t) => {
  // Recorded, not bound: tests only bind loopback.
  const forget = addOwnListener("192.0.2.10", 8099);
  t.after(forget);
  const open = new OutboundPolicy(undefined, false);
  assert.equal(
    refusedRule(() => open.check(new URL("http://192.0.2.10:8099/api/overview"))),
    "own-listener",
  );
  assert.equal(
    refusedRule(() => open.check(new URL("http://[::ffff:192.0.2.10]:8099/"))),
    "own-listener",
  );
  assert.equal(
    refusedRule(() => open.check(new URL("http://192.0.2.10:8098/"))),
    undefined,
    "another port of that address is not a listener",
  );
  const named = new OutboundPolicy(["http://192.0.2.10:8099"], false);
  assert.equal(
    refusedRule(() => named.check(new URL("http://192.0.2.10:8099/"))),
    undefined,
  );
});

test("a hostname resolving to loopback is refused, and at connect time too, where DNS could answer differently", async (t) => {
  let connections = 0;
  const server = createServer((_request, response) => response.end("reached"));
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const resolvesToLoopback = new OutboundPolicy(undefined, false, async () => [{ address: "127.0.0.1" }]);
  await assert.rejects(resolvesToLoopback.checkResolved(new URL(`http://rebound.example:${port}/`)), {
    code: "SB_HOST_OUTBOUND_REFUSED",
  });

  // The connect-time guard: the transport connects to what DNS says at that moment.
  const transport = createTransport();
  t.after(() => transport.close());
  const policy = new OutboundPolicy(undefined, false);
  const target = new URL(`http://localhost:${port}/`);
  const call = (guard: AddressGuard) =>
    transport.request({
      url: target.href,
      options: { ...transportDefaults("default"), callTimeoutMs: 5000, addressGuard: guard },
    });
  await assert.rejects(call(policy.connectGuard(target)), (error: unknown) => {
    assert.equal((error as { code?: string }).code, "SB_HOST_OUTBOUND_REFUSED");
    assert.match((error as Error).message, /resolved to (127\.0\.0\.1|::1) when connecting/);
    return true;
  });
  assert.equal(connections, 0, "no connection was made");
  const named = new OutboundPolicy([`http://localhost:${port}`], false);
  const response = await call(named.connectGuard(target));
  assert.equal(await response.text(), "reached");
});
