import assert from "node:assert/strict";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createTransport, type Transport } from "../src/transport/index.js";
import type { TlsOptions } from "../src/transport/types.js";
import { makeCertificates, type TestCertificates } from "./support/certificates.js";
import { startServer } from "./support/http-server.js";
import { tempDir } from "./support/temp-dir.js";
import { startTlsServer, type TlsServerOptions, type TlsTestServer } from "./support/tls-server.js";
import { options } from "./support/transport-options.js";

const noRetry = { ...options().retry, retryIoErrors: false };

function setup(t: TestContext): { certificates: TestCertificates; dir: string; transport: Transport } {
  const dir = tempDir(t, "switchboard-tls-");
  const transport = createTransport();
  t.after(() => transport.close());
  return { certificates: makeCertificates(dir), dir, transport };
}

async function tlsServer(t: TestContext, serverOptions: TlsServerOptions): Promise<TlsTestServer> {
  const server = await startTlsServer(serverOptions);
  t.after(() => server.close());
  return server;
}

function get(transport: Transport, url: string, tls: TlsOptions | undefined, extra = {}): Promise<string> {
  return transport.exchange(
    { url, method: "POST", body: "b", options: options({ ...(tls ? { tls } : {}), ...extra }) },
    (response) => Buffer.from(response.body).toString(),
  );
}

test("https trusts an extra CA and fails with the TLS error, unretried, without it", async (t) => {
  const { certificates, transport } = setup(t);
  const server = await tlsServer(t, { certificates });
  assert.equal(await get(transport, `${server.url}/x`, { trustCaCerts: [certificates.ca] }), "ok");
  assert.equal(server.seen[0]?.encrypted, true);
  await assert.rejects(get(transport, `${server.url}/x`, undefined), { code: "SB_TRANSPORT_TLS" });
  assert.equal(server.seen.length, 1, "the untrusted call never reached the handler");
  const [trusted, untrusted] = transport.stats();
  assert.equal(trusted?.requests, 1);
  assert.equal(untrusted?.retries, 0, "a TLS failure is not retried");
});

test("https+unix really speaks TLS over the UNIX socket", async (t) => {
  const { certificates, dir, transport } = setup(t);
  const socketPath = join(dir, "tls.sock");
  const server = await tlsServer(t, { certificates, socketPath });
  const body = await get(transport, `${server.url}/fn/path`, { trustCaCerts: [certificates.ca] });
  assert.equal(body, "ok");
  assert.deepEqual(
    server.seen.map((request) => request.encrypted),
    [true],
  );
  // Plain HTTP against the same socket is not understood by a TLS server.
  await assert.rejects(
    get(transport, `http+unix://${socketPath}/fn/path`, undefined, { retry: noRetry }),
    (error: { code: string }) => error.code.startsWith("SB_TRANSPORT_"),
  );
  assert.equal(server.seen.length, 1);
  // And TLS against a plain HTTP socket fails as TLS.
  const plainSocket = join(dir, "plain.sock");
  const plain = await startServer((_request, response) => response.end("ok"), plainSocket);
  t.after(() => plain.close());
  await assert.rejects(
    get(transport, `https+unix://${plainSocket}/x`, { trustCaCerts: [certificates.ca] }, { retry: noRetry }),
    { code: "SB_TRANSPORT_TLS" },
  );
});

test("mTLS: the client certificate and key are presented, and without them the call fails as TLS", async (t) => {
  const { certificates, transport } = setup(t);
  const server = await tlsServer(t, { certificates, requireClientCert: true });
  const withCert = {
    trustCaCerts: [certificates.ca],
    clientCert: certificates.clientCert,
    clientKey: certificates.clientKey,
  };
  assert.equal(await get(transport, server.url, withCert), "ok");
  assert.equal(server.seen[0]?.clientSubject, "switchboard test client");
  await assert.rejects(get(transport, server.url, { trustCaCerts: [certificates.ca] }, { retry: noRetry }), {
    code: "SB_TRANSPORT_TLS",
  });
  assert.equal(server.seen.length, 1);
});

test("an encrypted client key is opened with the key password file", async (t) => {
  const { certificates, dir, transport } = setup(t);
  const server = await tlsServer(t, { certificates, requireClientCert: true });
  const tls = {
    trustCaCerts: [certificates.ca],
    clientCert: certificates.clientCert,
    clientKey: certificates.encryptedClientKey,
    clientKeyPasswordFile: certificates.clientKeyPasswordFile,
  };
  assert.equal(await get(transport, server.url, tls), "ok");
  assert.equal(server.seen[0]?.clientSubject, "switchboard test client");

  const { writeFileSync } = await import("node:fs");
  const wrong = join(dir, "wrong.pass");
  writeFileSync(wrong, "not the passphrase\n");
  await assert.rejects(get(transport, server.url, { ...tls, clientKeyPasswordFile: wrong }), {
    code: "SB_TRANSPORT_TLS",
  });
  await assert.rejects(get(transport, server.url, { ...tls, clientKeyPasswordFile: join(dir, "missing") }), {
    code: "SB_TRANSPORT_TLS",
    message: /missing/,
  });
  await assert.rejects(
    get(transport, server.url, { trustCaCerts: [certificates.ca], clientCert: tls.clientCert }),
    {
      code: "SB_TRANSPORT_TLS",
      message: /both or neither/,
    },
  );
});

test("HTTP/2 is negotiated over TLS when configured", async (t) => {
  const { certificates, transport } = setup(t);
  const server = await tlsServer(t, { certificates, http2: true });
  const tls = { trustCaCerts: [certificates.ca] };
  for (let i = 0; i < 3; i++)
    assert.equal(await get(transport, `${server.url}/h2`, tls, { http2: true }), "ok");
  assert.deepEqual(
    server.seen.map((request) => request.httpVersion),
    ["2.0", "2.0", "2.0"],
  );
});
