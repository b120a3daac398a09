import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  createFetchHandler,
  createNodeHandler,
  INT,
  messageBuilder,
  playgroundEgressMessage,
  RequestReplyHandler,
  type SdkError,
  STRING,
  StatefulFunctions,
  valueSpec,
} from "@switchboard/sdk";
import {
  FromFunction_ExpirationSpec_ExpireMode as ExpireMode,
  type FromFunction,
  FromFunctionSchema,
  FromFunction_PersistedValueMutation_MutationType as MutationType,
  ToFunctionSchema,
} from "@switchboard/sdk/protocol";

const COUNT = valueSpec("count", INT);
const NOTE = valueSpec("note", STRING, { expireAfterWrite: 60_000 });
const TOUCH = valueSpec("touch", INT, { expireAfterCall: 5_000 });

function functions(): StatefulFunctions {
  return new StatefulFunctions()
    .register({
      typename: "test/counter",
      specs: [COUNT, NOTE, TOUCH],
      fn: (context, message) => {
        context.storage.set(COUNT, (context.storage.get(COUNT) ?? 0) + 1);
        const command = message.isString() ? message.asString() : "";
        if (command === "forget") context.storage.delete(NOTE);
        if (command === "greet")
          context.send(messageBuilder({ typename: "test/greeter", id: context.self.id, value: "hi" }));
        if (command === "later")
          context.sendAfter(1500, messageBuilder({ typename: "test/greeter", id: "x", value: "late" }));
        if (command === "later-token")
          context.sendAfter(10, messageBuilder({ typename: "test/greeter", id: "x", value: "t" }), "tok");
        if (command === "cancel") context.cancelDelayedMessage("tok");
        if (command === "egress")
          context.sendEgress(playgroundEgressMessage("out", { n: context.storage.get(COUNT) }));
        if (command === "caller")
          context.storage.set(NOTE, context.caller ? context.caller.typename : "ingress");
        if (command === "boom") throw new Error("user code exploded");
      },
    })
    .register({ typename: "test/stateless", fn: () => {} });
}

type StateEntry = [string, { typename: string; value: Uint8Array } | undefined];

function request(
  typename: string,
  id: string,
  state: StateEntry[] | "declared",
  commands: string[],
  caller?: string,
): Uint8Array {
  const [namespace, type] = typename.split("/");
  const all: StateEntry[] =
    state === "declared"
      ? [
          ["count", undefined],
          ["note", undefined],
          ["touch", undefined],
        ]
      : state;
  return toBinary(
    ToFunctionSchema,
    create(ToFunctionSchema, {
      request: {
        case: "invocation",
        value: {
          target: { namespace, type, id },
          state: all.map(([stateName, value]) => ({
            stateName,
            ...(value ? { stateValue: { ...value, hasValue: true } } : {}),
          })),
          invocations: commands.map((command) => ({
            ...(caller
              ? { caller: { namespace: caller.split("/")[0], type: caller.split("/")[1], id: "c1" } }
              : {}),
            argument: { typename: STRING.typename, hasValue: true, value: STRING.serialize(command) },
          })),
        },
      },
    }),
  );
}

/** Both adapters, each behind a real loopback server. */
async function servers(t: { after(fn: () => unknown): void }, errors: SdkError[] = []) {
  const onError = (error: SdkError) => errors.push(error);
  const nodeServer = createServer(createNodeHandler(functions(), { onError, maxBodyBytes: 64 * 1024 }));
  const fetchHandler = createFetchHandler(functions(), { onError, maxBodyBytes: 64 * 1024 });
  const fetchServer = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers))
      if (typeof value === "string") headers.set(key, value);
    const method = req.method ?? "GET";
    const response = await fetchHandler(
      new Request("http://local/fn", {
        method,
        headers,
        ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }),
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  const urls: string[] = [];
  for (const server of [nodeServer, fetchServer]) {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/fn`);
  }
  return urls;
}

async function call(
  url: string,
  body: Uint8Array,
  init: RequestInit = {},
): Promise<{ status: number; reply?: FromFunction; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body,
    ...init,
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) return { status: response.status, text: Buffer.from(bytes).toString() };
  return { status: 200, reply: fromBinary(FromFunctionSchema, bytes), text: "" };
}

function result(reply: FromFunction | undefined) {
  assert.equal(reply?.response.case, "invocationResult");
  return reply?.response.case === "invocationResult" ? reply.response.value : assert.fail("no result");
}

test("missing state is answered with every missing spec, in declaration order, with TTLs", async (t) => {
  for (const url of await servers(t)) {
    const { reply } = await call(url, request("test/counter", "a", [["count", undefined]], ["x"]));
    assert.equal(reply?.response.case, "incompleteInvocationContext");
    const missing =
      reply?.response.case === "incompleteInvocationContext" ? reply.response.value.missingValues : [];
    assert.deepEqual(
      missing.map((spec) => [
        spec.stateName,
        spec.typeTypename,
        spec.expirationSpec?.mode,
        Number(spec.expirationSpec?.expireAfterMillis),
      ]),
      [
        ["note", "io.statefun.types/string", ExpireMode.AFTER_WRITE, 60_000],
        ["touch", "io.statefun.types/int", ExpireMode.AFTER_INVOKE, 5_000],
      ],
    );
  }
});

test("a batch runs sequentially with state carried over and reports only the final value", async (t) => {
  for (const url of await servers(t)) {
    const state: StateEntry[] = [
      ["count", { typename: INT.typename, value: INT.serialize(5) }],
      ["note", undefined],
      ["touch", undefined],
    ];
    const value = result((await call(url, request("test/counter", "a", state, ["x", "y", "z"]))).reply);
    assert.equal(value.stateMutations.length, 1);
    assert.equal(value.stateMutations[0]?.mutationType, MutationType.MODIFY);
    assert.equal(INT.deserialize(value.stateMutations[0]?.stateValue?.value ?? new Uint8Array()), 8);
  }
});

test("deleting a state reports DELETE; undeclared states sent by the runtime are ignored", async (t) => {
  for (const url of await servers(t)) {
    const state: StateEntry[] = [
      ["count", undefined],
      ["note", { typename: STRING.typename, value: STRING.serialize("keep?") }],
      ["touch", undefined],
      ["stranger", { typename: "x/y", value: new Uint8Array([1]) }],
    ];
    const value = result((await call(url, request("test/counter", "a", state, ["forget"]))).reply);
    const note = value.stateMutations.find((mutation) => mutation.stateName === "note");
    assert.equal(note?.mutationType, MutationType.DELETE);
  }
});

test("messages, delayed messages with and without tokens, cancellations and egress keep call order", async (t) => {
  for (const url of await servers(t)) {
    const value = result(
      (
        await call(
          url,
          request("test/counter", "a", "declared", ["greet", "later", "later-token", "cancel", "egress"]),
        )
      ).reply,
    );
    assert.deepEqual(
      value.outgoingMessages.map((m) => [m.target?.namespace, m.target?.type, m.target?.id]),
      [["test", "greeter", "a"]],
    );
    assert.deepEqual(
      value.delayedInvocations.map((d) => [
        Number(d.delayInMs),
        d.cancellationToken,
        d.isCancellationRequest,
      ]),
      [
        [1500, "", false],
        [10, "tok", false],
        [0, "tok", true],
      ],
    );
    assert.equal(value.outgoingEgresses[0]?.egressNamespace, "io.statefun.playground");
    assert.equal(value.outgoingEgresses[0]?.egressType, "egress");
    assert.deepEqual(JSON.parse(Buffer.from(value.outgoingEgresses[0]?.argument?.value ?? []).toString()), {
      topic: "out",
      payload: { n: 5 },
    });
  }
});

test("the caller is the sending function, reset per invocation", async (t) => {
  for (const url of await servers(t)) {
    const value = result(
      (await call(url, request("test/counter", "a", "declared", ["caller"], "test/sender"))).reply,
    );
    const note = value.stateMutations.find((mutation) => mutation.stateName === "note");
    assert.equal(STRING.deserialize(note?.stateValue?.value ?? new Uint8Array()), "test/sender");
  }
});

test("a function with nothing to report still answers an invocation result", async (t) => {
  for (const url of await servers(t)) {
    const { reply } = await call(url, request("test/stateless", "a", [], ["x"]));
    assert.equal(reply?.response.case, "invocationResult");
  }
});

test("a state arriving with another typename is an error, answered 500 with an empty body", async (t) => {
  const errors: SdkError[] = [];
  for (const url of await servers(t, errors)) {
    const state: StateEntry[] = [
      ["count", { typename: "io.statefun.types/long", value: new Uint8Array() }],
      ["note", undefined],
      ["touch", undefined],
    ];
    const { status, text } = await call(url, request("test/counter", "a", state, ["x"]));
    assert.equal(status, 500);
    assert.equal(text, "");
  }
  assert.ok(errors.every((error) => error.code === "SB_SDK_STATE_TYPE_MISMATCH"));
});

test("a throwing function fails its request with 500, an empty body, and a logged address", async (t) => {
  const errors: SdkError[] = [];
  for (const url of await servers(t, errors)) {
    const { status, text } = await call(url, request("test/counter", "user-7", "declared", ["boom"]));
    assert.equal(status, 500);
    assert.equal(text, "");
  }
  assert.equal(errors.length, 2);
  assert.match(errors[0]?.message ?? "", /test\/counter\/user-7 failed: user code exploded/);
});

test("bad requests get a specific 4xx and never reach a function", async (t) => {
  for (const url of await servers(t)) {
    assert.equal((await fetch(url, { method: "GET" })).status, 405);
    assert.equal(
      (
        await call(url, request("test/counter", "a", "declared", ["x"]), {
          headers: { "content-type": "application/json" },
        })
      ).status,
      415,
    );
    assert.equal((await call(url, new Uint8Array(0))).status, 400);
    assert.equal((await call(url, new Uint8Array([0xff, 0xff, 0xff]))).status, 400);
    const unknown = await call(url, request("test/nobody", "a", [], ["x"]));
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /SB_SDK_UNKNOWN_FUNCTION/);
    assert.equal((await call(url, new Uint8Array(65 * 1024))).status, 413);
    const withCharset = await call(url, request("test/stateless", "a", [], ["x"]), {
      headers: { "content-type": "Application/Octet-Stream; charset=binary" },
    });
    assert.equal(withCharset.status, 200, "content type parameters and case are tolerated");
  }
});

/** POSTs `chunks` one at a time (chunked encoding unless a content-length is given) on a fresh connection. */
function postInPieces(
  url: string,
  chunks: Uint8Array[],
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/octet-stream", ...headers } },
      (response) => {
        const received: Buffer[] = [];
        response.on("data", (chunk: Buffer) => received.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(received) }),
        );
      },
    );
    request.on("error", reject);
    void (async () => {
      for (const chunk of chunks) {
        request.write(chunk);
        await new Promise((next) => setTimeout(next, 5));
      }
      request.end();
    })();
  });
}

test("the node adapter reads a body that arrives in pieces, chunked or with a length", async (t) => {
  const [url] = await servers(t);
  const body = request("test/counter", "a", "declared", ["x"]);
  const pieces = [body.subarray(0, 3), body.subarray(3, 20), body.subarray(20)];
  const lengths: Record<string, string>[] = [{}, { "content-length": String(body.length) }];
  for (const headers of lengths) {
    const { status, body: reply } = await postInPieces(url as string, pieces, headers);
    assert.equal(status, 200);
    assert.equal(result(fromBinary(FromFunctionSchema, reply)).stateMutations[0]?.stateName, "count");
  }
});

test("a chunked body that grows past the limit is answered 413", async (t) => {
  const errors: SdkError[] = [];
  const [url] = await servers(t, errors);
  const piece = new Uint8Array(30 * 1024);
  const { status, body } = await postInPieces(url as string, [piece, piece, piece]);
  assert.equal(status, 413);
  assert.match(body.toString(), /SB_SDK_BODY_TOO_LARGE/);
  assert.deepEqual(
    errors.map((error) => error.code),
    ["SB_SDK_BODY_TOO_LARGE"],
  );
});

test("state is matched by name for few and many states; a name sent twice counts with its last value", async () => {
  for (const count of [3, 40]) {
    const specs = Array.from({ length: count }, (_, i) => valueSpec(`s${i}`, INT));
    const handler = new RequestReplyHandler(
      new StatefulFunctions().register({
        typename: "test/many",
        specs,
        // Adds each state's value to the last one, reading through equal specs that are other objects.
        fn: (context) => {
          const last = valueSpec(`s${count - 1}`, INT);
          let sum = 0;
          for (let i = 0; i < count; i++) sum += context.storage.get(valueSpec(`s${i}`, INT)) ?? 0;
          context.storage.set(last, sum);
        },
      }),
    );
    const state: StateEntry[] = specs.map((spec, i) => [
      spec.name,
      { typename: INT.typename, value: INT.serialize(i) },
    ]);
    state.unshift(["s0", { typename: INT.typename, value: INT.serialize(1000) }]); // overridden by the later s0
    const reply = fromBinary(
      FromFunctionSchema,
      await handler.handle(request("test/many", "a", state, ["x"])),
    );
    const mutations = result(reply).stateMutations;
    assert.deepEqual(
      mutations.map((m) => [m.stateName, INT.deserialize(m.stateValue?.value ?? new Uint8Array())]),
      [[`s${count - 1}`, (count * (count - 1)) / 2]],
    );
    const partial = state.filter(([name]) => name !== "s1");
    const incomplete = fromBinary(
      FromFunctionSchema,
      await handler.handle(request("test/many", "a", partial, ["x"])),
    );
    assert.equal(incomplete.response.case, "incompleteInvocationContext");
    if (incomplete.response.case === "incompleteInvocationContext")
      assert.deepEqual(
        incomplete.response.value.missingValues.map((m) => m.stateName),
        ["s1"],
      );
  }
});
