import { isDeepStrictEqual } from "node:util";
import type { OutboundCall } from "./outbound-call.js";

/** Exact text, a regular expression, or a predicate. */
export type TextMatcher = string | RegExp | ((value: string) => boolean);

/**
 * What a mock answers: every field given must match (fields left out match anything).
 * Method is compared case-insensitively; an exact URL must equal the whole absolute URL.
 */
export interface CallMatcher {
  readonly method?: TextMatcher;
  readonly url?: TextMatcher;
  /** The named upstream the function called through. */
  readonly upstream?: string;
  /** Each header must be present with a matching value; `false` means it must be absent. */
  readonly headers?: Readonly<Record<string, TextMatcher | false>>;
  /** The body as UTF-8 text. */
  readonly body?: TextMatcher;
  /** The body parsed as JSON: deep-equal to a value, or a predicate on the parsed value. */
  readonly json?: unknown;
  /** Anything else, on the whole call. */
  readonly where?: (call: OutboundCall) => boolean;
}

/** One field of a matcher checked against a call: its name, what was expected, and whether it held. */
export interface FieldCheck {
  readonly field: string;
  readonly expected: string;
  readonly ok: boolean;
}

export function checkCall(matcher: CallMatcher, call: OutboundCall): FieldCheck[] {
  const checks: FieldCheck[] = [];
  if (matcher.method !== undefined) {
    const ok =
      typeof matcher.method === "string"
        ? matcher.method.toUpperCase() === call.method.toUpperCase()
        : matchText(matcher.method, call.method);
    checks.push({ field: "method", expected: describeMatcher(matcher.method), ok });
  }
  if (matcher.url !== undefined) {
    checks.push({
      field: "url",
      expected: describeMatcher(matcher.url),
      ok: matchText(matcher.url, call.url),
    });
  }
  if (matcher.upstream !== undefined) {
    checks.push({ field: "upstream", expected: matcher.upstream, ok: matcher.upstream === call.upstream });
  }
  for (const [name, expected] of Object.entries(matcher.headers ?? {})) {
    const values = call.headers[name.toLowerCase()] ?? [];
    const ok = expected === false ? values.length === 0 : values.some((value) => matchText(expected, value));
    checks.push({
      field: `header ${name.toLowerCase()}`,
      expected: expected === false ? "absent" : describeMatcher(expected),
      ok,
    });
  }
  if (matcher.body !== undefined) {
    checks.push({
      field: "body",
      expected: describeMatcher(matcher.body),
      ok: matchText(matcher.body, call.text),
    });
  }
  if (matcher.json !== undefined) {
    let ok = false;
    try {
      const value = call.json();
      ok =
        typeof matcher.json === "function"
          ? Boolean(matcher.json(value))
          : isDeepStrictEqual(value, matcher.json);
    } catch {
      ok = false;
    }
    const expected =
      typeof matcher.json === "function" ? "a JSON body the predicate accepts" : JSON.stringify(matcher.json);
    checks.push({ field: "json", expected, ok });
  }
  if (matcher.where !== undefined) {
    checks.push({ field: "where", expected: "the predicate to accept the call", ok: matcher.where(call) });
  }
  return checks;
}

function matchText(matcher: TextMatcher, value: string): boolean {
  if (typeof matcher === "string") return matcher === value;
  if (matcher instanceof RegExp) {
    matcher.lastIndex = 0;
    return matcher.test(value);
  }
  return matcher(value);
}

function describeMatcher(matcher: TextMatcher): string {
  if (typeof matcher === "string") return JSON.stringify(matcher);
  if (matcher instanceof RegExp) return String(matcher);
  return "a value the predicate accepts";
}
