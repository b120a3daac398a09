/** Web functions exercising every input, output and failure the host handles (host-*.test.ts). */
import {
  Data,
  http,
  INT,
  json,
  StatefulFunctions,
  valueSpec,
  WebResponse,
  webFunction,
} from "@switchboard/sdk";
import { z } from "zod";

export const echoText = webFunction({ name: "echo-text", input: "text", handler: (text) => `got ${text}` });

export const echoBytes = webFunction({ name: "echo-bytes", input: "bytes", handler: (bytes) => bytes });

export const nothing = webFunction({ name: "nothing", handler: () => undefined });

const Order = z.object({ item: z.string(), quantity: z.number().int().positive() });

export const order = webFunction({
  name: "order",
  input: json(Order),
  handler: (value) => ({ total: value.quantity * 2, item: value.item }),
});

export const anyJson = webFunction({ name: "any-json", input: json(), handler: (value) => [value] });

export const inspect = webFunction({
  name: "inspect",
  handler: (_body, request) => ({
    method: request.method,
    name: request.name,
    path: request.path,
    query: request.query,
    multi: request.headers["x-multi"],
    first: request.header("X-Multi"),
  }),
});

export const built = webFunction({
  name: "built",
  handler: () =>
    new WebResponse(201).header("set-cookie", "a=1").header("set-cookie", "b=2").json({ created: true }),
});

export const fails = webFunction({
  name: "fails",
  handler: () => {
    throw new Error("database password hunter2 rejected");
  },
});

export const loops = webFunction({
  name: "loops",
  handler: () => {
    for (;;) {
      // A stuck function: only terminating the worker stops it.
    }
  },
});

export const hogs = webFunction({
  name: "hogs",
  handler: () => {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill(Math.random()));
  },
});

export const slow = webFunction({
  name: "slow",
  input: "text",
  handler: async (text) => {
    await new Promise((resolve) => setTimeout(resolve, Number(text)));
    return "done";
  },
});

export const chunks = webFunction({
  name: "chunks",
  handler: () =>
    new WebResponse().header("content-type", "text/plain").stream(
      (async function* () {
        for (let i = 0; i < 3; i++) yield `part ${i}\n`;
      })(),
    ),
});

export const events = webFunction({
  name: "events",
  handler: () =>
    new WebResponse().sse(
      (async function* () {
        yield { event: "greeting", data: "hello\nworld" };
        yield { id: "2", data: "bye" };
      })(),
    ),
});

export const env = webFunction({ name: "env", handler: () => ({ ...process.env }) });

/** Calls the URL in ?url= and answers with what came back, parsed. */
export const fetchJson = webFunction({
  name: "fetch-json",
  handler: async (_body, request) => {
    const response = await http.invoke({ url: request.query.url?.[0] ?? "" });
    return {
      status: response.status,
      body: await response.body.json(),
      type: response.header("content-type"),
    };
  },
});

/** Calls the URL in ?url= and reports the failure's code (a refused call must be catchable). */
export const tryFetch = webFunction({
  name: "try-fetch",
  handler: async (_body, request) => {
    try {
      const response = await http.invoke({ url: request.query.url?.[0] ?? "" });
      return { status: response.status };
    } catch (error) {
      const { code, message } = error as Error & { code?: string };
      return new WebResponse(502).json({ code, message });
    }
  },
});

/** GETs `?url=` following up to `?hops=` redirects (with `?upstream=`, through that upstream). */
export const follow = webFunction({
  name: "follow",
  handler: async (_body, request) => {
    const upstream = request.query.upstream?.[0];
    try {
      const response = await http.invoke({
        url: request.query.url?.[0] ?? "",
        ...(upstream ? { upstream } : {}),
        maxRedirects: Number(request.query.hops?.[0] ?? 0),
      });
      return { status: response.status, body: await response.body.text() };
    } catch (error) {
      const { code, message } = error as Error & { code?: string };
      return new WebResponse(502).json({ code, message });
    }
  },
});

/** Calls upstream "echo" (the host adds its secret header) and fails with whatever came back. */
export const leaky = webFunction({
  name: "leaky",
  handler: async () => {
    const response = await http.invoke({ upstream: "echo", url: "/headers" });
    throw new Error(`upstream said ${await response.body.text()}`);
  },
});

/** Like leaky, but hides what came back in the error's name, code and a chain of causes. */
export const leakyFields = webFunction({
  name: "leaky-fields",
  handler: async () => {
    const response = await http.invoke({ upstream: "echo", url: "/headers" });
    const seen = await response.body.text();
    const root = new Error("root cause", { cause: `a string cause: ${seen}` });
    const middle = Object.assign(new Error(`middle: ${seen}`, { cause: root }), { code: seen });
    const error = Object.assign(new Error("the call failed", { cause: middle }), { code: seen });
    error.name = `Failure ${seen}`;
    throw error;
  },
});

/** Calls upstream "echo" and returns what it saw, so a test can check the secret was added. */
export const upstreamEcho = webFunction({
  name: "upstream-echo",
  handler: async () => {
    const response = await http.invoke({ upstream: "echo", url: "/headers?x=1" });
    return (await response.body.json()) as object;
  },
});

/** Two calls in flight at once. */
export const parallel = webFunction({
  name: "parallel",
  handler: async (_body, request) => {
    const url = request.query.url?.[0] ?? "";
    const started = Date.now();
    const [a, b] = await Promise.all([http.invoke({ url }), http.invoke({ url })]);
    return { statuses: [a.status, b.status], ms: Date.now() - started };
  },
});

/** The pass-through proxy: body in and body out stay in the host. */
export const relay = webFunction({
  name: "relay",
  input: "data",
  handler: async (body, request) => {
    const upstream = await http.invoke({
      url: request.query.url?.[0] ?? "",
      method: request.method,
      ...(request.method === "GET" ? {} : { body }),
    });
    const response = new WebResponse(upstream.status).body(upstream.body);
    const type = upstream.header("content-type");
    if (type) response.header("content-type", type);
    const length = upstream.header("content-length");
    if (length) response.header("content-length", length);
    return response;
  },
});

export const madeData = webFunction({ name: "made-data", handler: () => Data.from("local bytes") });

const COUNT = valueSpec("count", INT);

export const stateful = new StatefulFunctions()
  .register({
    typename: "hosted/counter",
    specs: [COUNT],
    fn: (context) => {
      const count = (context.storage.get(COUNT) ?? 0) + 1;
      context.storage.set(COUNT, count);
    },
  })
  .register({
    typename: "hosted/broken",
    fn: () => {
      throw new Error("broken on purpose");
    },
  });

/** Relays its body Data twice: the second use must fail, as a stream can be relayed once. */
export const twice = webFunction({
  name: "twice",
  input: "data",
  handler: async (body, request) => {
    const url = request.query.url?.[0] ?? "";
    await http.invoke({ url, method: "POST", body });
    try {
      await http.invoke({ url, method: "POST", body });
      return "sent twice";
    } catch (error) {
      return (error as Error & { code?: string }).code ?? "no code";
    }
  },
});

/** Reads its Data body into memory: bounded by limits.dataBytes. */
export const readAll = webFunction({
  name: "read-all",
  input: "data",
  handler: async (body) => (await body.bytes()).length,
});

/** Calls ?url= with an optional per-call ?timeout=, reporting the failure's code. */
export const timedFetch = webFunction({
  name: "timed-fetch",
  handler: async (_body, request) => {
    const timeout = request.query.timeout?.[0];
    try {
      const response = await http.invoke({
        url: request.query.url?.[0] ?? "",
        ...(timeout ? { timeoutMs: Number(timeout) } : {}),
      });
      return { status: response.status };
    } catch (error) {
      return { code: (error as Error & { code?: string }).code };
    }
  },
});

/** Calls upstream "echo" with the path in ?path=, reporting the failure's code. */
export const upstreamPath = webFunction({
  name: "upstream-path",
  handler: async (_body, request) => {
    try {
      const response = await http.invoke({ upstream: "echo", url: request.query.path?.[0] ?? "" });
      return { status: response.status };
    } catch (error) {
      return { code: (error as Error & { code?: string }).code };
    }
  },
});

/**
 * Calls ?url= with a callback among its options, as plain JavaScript callers of other HTTP
 * clients do: a value no thread can be sent. Reports what the call threw.
 */
export const fetchWithCallback = webFunction({
  name: "fetch-with-callback",
  handler: async (_body, request) => {
    try {
      const retry = { attempts: 2, shouldRetry: () => true };
      await http.invoke({ url: request.query.url?.[0] ?? "", retry: retry as never });
      return { threw: false };
    } catch (error) {
      return { threw: true, code: (error as { code?: string }).code, message: (error as Error).message };
    }
  },
});
