/** Every YAML example of the StateFun "HTTP Function Endpoint" page parses to the values it states. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadModuleText } from "../src/config/index.js";
import type { FunctionEndpoint } from "../src/config/model.js";

function endpoint(yaml: string): FunctionEndpoint {
  const result = loadModuleText(yaml, "module.yaml");
  assert.ok(result.ok, result.ok ? "" : result.errors.map((error) => error.message).join("\n"));
  assert.equal(result.config.endpoints.length, 1);
  return result.config.endpoints[0] as FunctionEndpoint;
}

test("v2 with transport timeouts: call 1 min, read 10 sec, write 10 sec", () => {
  const e = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: https://bar.foo.com:8080/{function.name}
  transport:
    timeouts:
      call: 1 min
      read: 10 sec
      write: 10 sec
`);
  assert.deepEqual(e.functions, { namespace: "com.example", name: "*" });
  assert.equal(e.transport.profile, "default");
  assert.equal(e.transport.callTimeoutMs, 60_000);
  assert.equal(e.transport.readTimeoutMs, 10_000);
  assert.equal(e.transport.writeTimeoutMs, 10_000);
  assert.equal(e.transport.connectTimeoutMs, 10_000, "connect defaults to 10 s");
  assert.equal(e.maxNumBatchRequests, 1000, "maxNumBatchRequests defaults to 1000");
});

test("v1 with timeouts at the spec level", () => {
  const e = endpoint(`kind: io.statefun.endpoints.v1/http
spec:
  functions: com.example/*
  urlPathTemplate: https://bar.foo.com:8080/{function.name}
  timeouts:
    call: 1 min
    read: 10 sec
    write: 10 sec
`);
  assert.equal(e.kind, "io.statefun.endpoints.v1/http");
  assert.equal(e.transport.profile, "default");
  assert.equal(e.transport.callTimeoutMs, 60_000);
  assert.equal(e.transport.readTimeoutMs, 10_000);
});

test("the URL template example sends com.example/greeter to /greeter", () => {
  const result = loadModuleText(
    `kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: https://bar.foo.com/{function.name}
`,
    "module.yaml",
  );
  assert.ok(result.ok);
  assert.equal(result.config.router.resolve("com.example/greeter").url, "https://bar.foo.com/greeter");
});

test("the default transport's full example: call 2m, connect 20s, read 10s, write 10s", () => {
  const e = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: http://bar.foo.com/{function.name}
  maxNumBatchRequests: 1000
  transport:
    timeouts:
      call: 2m
      connect: 20s
      read: 10s
      write: 10s
`);
  assert.equal(e.transport.callTimeoutMs, 120_000);
  assert.equal(e.transport.connectTimeoutMs, 20_000);
  assert.equal(e.transport.readTimeoutMs, 10_000);
  assert.equal(e.transport.writeTimeoutMs, 10_000);
  assert.deepEqual(e.transport.retry.retryStatuses, [408, 409, 420, 429, 499]);
  assert.equal(e.transport.retry.retryServerErrors, true);
  assert.equal(e.transport.retry.retryInvalidResponses, false);
});

test("the async transport example: call 2m, connect 20s, pool_ttl 15s, pool_size 1024, payload 32 MiB", () => {
  const e = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: http://bar.foo.com/{function.name}
  transport:
    type: io.statefun.transports.v1/async
    call: 2m
    connect: 20s
    pool_ttl: 15s
    pool_size: 1024
    payload_max_bytes: 33554432
`);
  assert.equal(e.transport.profile, "async");
  assert.equal(e.transportType, "io.statefun.transports.v1/async");
  assert.equal(e.transport.callTimeoutMs, 120_000);
  assert.equal(e.transport.connectTimeoutMs, 20_000);
  assert.equal(e.transport.poolTtlMs, 15_000);
  assert.equal(e.transport.poolSize, 1024);
  assert.equal(e.transport.payloadMaxBytes, 33_554_432);
  assert.equal(e.transport.retry.retryStatuses, "all-failures");
  assert.equal(e.transport.retry.retryInvalidResponses, true);
});

test("the async profile's defaults apply when only the type is given, and a timeouts block overrides call/connect", () => {
  const plain = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: http://h/{function.name}
  transport: { type: io.statefun.transports.v1/async }
`);
  assert.deepEqual(
    [plain.transport.callTimeoutMs, plain.transport.connectTimeoutMs, plain.transport.poolTtlMs],
    [120_000, 20_000, 15_000],
  );
  const overridden = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: http://h/{function.name}
  transport:
    type: io.statefun.transports.v1/async
    call: 5m
    timeouts: { call: 30s }
`);
  assert.equal(overridden.transport.callTimeoutMs, 30_000, "timeouts.call wins over call");
  assert.equal(overridden.transport.connectTimeoutMs, 10_000, "timeouts block defaults connect to 10 s");
});

test("maxNumBatchRequests <= 0 means unlimited; okhttp names the default profile", () => {
  const e = endpoint(`kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/fn
  urlPathTemplate: http+unix:///var/run/fn.sock/statefun
  maxNumBatchRequests: 0
  transport: { type: io.statefun.transports.v1/okhttp }
`);
  assert.equal(e.maxNumBatchRequests, Number.POSITIVE_INFINITY);
  assert.equal(e.transport.profile, "default");
  assert.deepEqual(e.functions, { namespace: "com.example", name: "fn" });
});
