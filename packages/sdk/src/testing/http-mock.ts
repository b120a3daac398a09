import { SdkError, SdkErrors } from "../errors.js";
import { type CallMatcher, checkCall, type FieldCheck } from "./call-matcher.js";
import { type CallAnswer, describeCall, type OutboundCall } from "./outbound-call.js";

/** A mocked answer: status (default 200), headers (repeats as arrays), and a body or JSON. */
export interface MockResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Uint8Array;
  /** Sent as JSON (with content-type application/json unless headers set one). */
  readonly json?: unknown;
}

export type MockReply = MockResponse | ((call: OutboundCall) => MockResponse | Promise<MockResponse>);

const encoder = new TextEncoder();

/** One mocked route: what it matches, what it answers, and the calls it answered. */
export class MockRoute {
  /** Every call this route answered, in order. */
  readonly calls: OutboundCall[] = [];
  private answer: MockReply = { status: 200 };
  private limit = Number.POSITIVE_INFINITY;

  constructor(
    readonly matcher: CallMatcher,
    readonly index: number,
  ) {}

  /** What the route answers: a response, or a function of the call. */
  reply(reply: MockReply): this {
    this.answer = reply;
    return this;
  }

  /** Answers at most `count` calls; later calls look for another route. */
  times(count: number): this {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`times() takes a count >= 1, got ${count}`);
    this.limit = count;
    return this;
  }

  /** Fails unless the route answered exactly `count` calls (or, without a count, at least one). */
  assertCalled(count?: number): void {
    const ok = count === undefined ? this.calls.length > 0 : this.calls.length === count;
    if (!ok) {
      throw new SdkError(
        SdkErrors.MOCK_NOT_SATISFIED,
        `mock #${this.index} (${describeMatcher(this.matcher)}) was called ${this.calls.length} time(s), expected ${count ?? "at least 1"}`,
      );
    }
  }

  get exhausted(): boolean {
    return this.calls.length >= this.limit;
  }

  /** @internal */
  async respond(call: OutboundCall): Promise<CallAnswer> {
    this.calls.push(call);
    const response = typeof this.answer === "function" ? await this.answer(call) : this.answer;
    return answerOf(response);
  }
}

/**
 * Mocks for outbound HTTP: routes are tried in the order they were added; the first that
 * matches (and is not used up) answers. A call that no route matches is the host's to
 * handle (by default it fails the test; see WebTestHost).
 */
export class HttpMock {
  private readonly routes: MockRoute[] = [];

  /** Adds a route; answer it with `.reply(...)`. */
  on(matcher: CallMatcher): MockRoute {
    const route = new MockRoute(matcher, this.routes.length + 1);
    this.routes.push(route);
    return route;
  }

  /** The route that answers `call`, or undefined. */
  find(call: OutboundCall): MockRoute | undefined {
    return this.routes.find(
      (route) => !route.exhausted && checkCall(route.matcher, call).every((check) => check.ok),
    );
  }

  /** Fails unless every route answered at least once. */
  assertAllCalled(): void {
    const idle = this.routes.filter((route) => route.calls.length === 0);
    if (idle.length > 0) {
      throw new SdkError(
        SdkErrors.MOCK_NOT_SATISFIED,
        `mock(s) never called:\n${idle.map((route) => `  #${route.index} ${describeMatcher(route.matcher)}`).join("\n")}`,
      );
    }
  }

  /** The error for a call nothing answered: the call, and the route that came closest and why it did not match. */
  unmatched(call: OutboundCall, hidden?: ReadonlySet<string>): SdkError {
    let closest: { route: MockRoute; checks: FieldCheck[]; score: number } | undefined;
    for (const route of this.routes) {
      const checks = checkCall(route.matcher, call);
      const passed = checks.filter((check) => check.ok).length;
      // Matching fields count most; a used-up route loses ties to a fresh one.
      const score = passed * 2 - (route.exhausted ? 1 : 0) - (checks.length - passed) * 0.5;
      if (!closest || score > closest.score) closest = { route, checks, score };
    }
    const lines = [`no mock matches the outbound call\n${describeCall(call, hidden)}`];
    if (!closest) lines.push("no mocks are set up (host.mock.on({...}).reply({...}))");
    else {
      const { route, checks } = closest;
      lines.push(`closest mock: #${route.index}${route.exhausted ? " (used up by times())" : ""}`);
      for (const check of checks)
        lines.push(`  ${check.ok ? "ok      " : "MISMATCH"} ${check.field}: expected ${check.expected}`);
    }
    return new SdkError(SdkErrors.UNMATCHED_CALL, lines.join("\n"));
  }
}

function describeMatcher(matcher: CallMatcher): string {
  const parts: string[] = [];
  if (matcher.method !== undefined) parts.push(String(matcher.method));
  if (matcher.url !== undefined) parts.push(String(matcher.url));
  if (matcher.upstream !== undefined) parts.push(`upstream ${matcher.upstream}`);
  if (matcher.headers !== undefined) parts.push(`headers ${Object.keys(matcher.headers).join(",")}`);
  if (matcher.body !== undefined || matcher.json !== undefined) parts.push("body");
  if (matcher.where !== undefined) parts.push("where()");
  return parts.join(" ") || "any call";
}

export function answerOf(response: MockResponse): CallAnswer {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    for (const one of typeof value === "string" ? [value] : value) headers.push([name.toLowerCase(), one]);
  }
  let body: Uint8Array = new Uint8Array(0);
  if (response.json !== undefined) {
    body = encoder.encode(JSON.stringify(response.json));
    if (!headers.some(([name]) => name === "content-type"))
      headers.push(["content-type", "application/json"]);
  } else if (typeof response.body === "string") body = encoder.encode(response.body);
  else if (response.body !== undefined) body = response.body;
  return { status: response.status ?? 200, headers, body };
}
