/**
 * Pairs of identical functions for host-overrides.test.ts: one of each pair gets a
 * per-function override, its twin keeps the module's settings.
 */
import {
  http,
  STRING,
  StatefulFunctions,
  valueSpec,
  type WebRequest,
  WebResponse,
  webFunction,
} from "@switchboard/sdk";

/** Sleeps for the milliseconds in the body. */
const sleep = async (text: string) => {
  await new Promise((resolve) => setTimeout(resolve, Number(text)));
  return "done";
};
export const slow = webFunction({ name: "slow", input: "text", handler: sleep });
export const slowToo = webFunction({ name: "slow-too", input: "text", handler: sleep });

const environment = () => ({ ...process.env });
export const env = webFunction({ name: "env", handler: environment });
export const envToo = webFunction({ name: "env-too", handler: environment });

/** Calls ?url= (or upstream "echo" with ?upstream) and answers the status, or the failure's code. */
const tryFetch = async (_body: unknown, request: WebRequest) => {
  try {
    const response = request.query.upstream
      ? await http.invoke({ upstream: "echo", url: "/headers" })
      : await http.invoke({ url: request.query.url?.[0] ?? "" });
    return { status: response.status, body: await response.body.text() };
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    return new WebResponse(502).json({ code, message });
  }
};
export const fetchOne = webFunction({ name: "fetch", handler: tryFetch });
export const fetchToo = webFunction({ name: "fetch-too", handler: tryFetch });

/** Fails with whatever upstream "echo" answered (which holds the secret header). */
export const leaky = webFunction({
  name: "leaky",
  handler: async () => {
    const response = await http.invoke({ upstream: "echo", url: "/headers" });
    throw new Error(`upstream said ${await response.body.text()}`);
  },
});

export const hogs = webFunction({
  name: "hogs",
  handler: () => {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill(Math.random()));
  },
});

export const echo = webFunction({ name: "echo", input: "text", handler: (text) => text });

const SEEN = valueSpec("seen", STRING);

/** Stores the PROBE variable its worker sees ("-" when unset). */
const probe = (context: { storage: { set(spec: typeof SEEN, value: string): void } }) => {
  context.storage.set(SEEN, process.env.PROBE ?? "-");
};

export const probes = new StatefulFunctions()
  .register({ typename: "probe/seen", specs: [SEEN], fn: probe })
  .register({ typename: "probe/plain", specs: [SEEN], fn: probe });
