/**
 * StateFun's duration syntax (Flink's TimeUtils): `<digits><optional whitespace><unit>`,
 * case-insensitive, integers only; a bare number is milliseconds. `mins`, signs, decimals
 * and compounds such as `1h30m` are errors.
 */
const UNIT_MS: ReadonlyArray<[readonly string[], number]> = [
  [["d", "day", "days"], 86_400_000],
  [["h", "hour", "hours"], 3_600_000],
  [["min", "m", "minute", "minutes"], 60_000],
  [["s", "sec", "secs", "second", "seconds"], 1000],
  [["ms", "milli", "millis", "millisecond", "milliseconds"], 1],
  [["µs", "us", "micro", "micros", "microsecond", "microseconds"], 0.001],
  [["ns", "nano", "nanos", "nanosecond", "nanoseconds"], 0.000001],
];

export const DURATION_HINT = "a duration like 500ms, 10 sec, 2m, 1 min or 1h (a bare number is milliseconds)";

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * The longest delay Node's timers take (2^31-1 ms, about 24.8 days). A longer one fires
 * after 1 ms with a TimeoutOverflowWarning, so a timeout or backoff above it would re-arm
 * and warn on every call instead of waiting.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration that becomes a timer: refused above MAX_TIMER_MS, naming the limit. */
export function parseTimerDuration(input: unknown): DurationResult {
  const parsed = parseDuration(input);
  if (!parsed.ok || parsed.ms <= MAX_TIMER_MS) return parsed;
  return {
    ok: false,
    reason: `${JSON.stringify(input)} is too long: the largest duration allowed is ${MAX_TIMER_MS} ms (about 24.8 days)`,
  };
}

export function parseDuration(input: unknown): DurationResult {
  if (typeof input === "number") {
    return Number.isInteger(input) && input >= 0
      ? { ok: true, ms: input }
      : { ok: false, reason: `${input} is not ${DURATION_HINT}` };
  }
  if (typeof input !== "string") return { ok: false, reason: `expected ${DURATION_HINT}` };
  const text = input.trim();
  if (text.length === 0) return { ok: false, reason: `an empty string is not ${DURATION_HINT}` };
  const match = /^(\d+)\s*([a-zµ]*)$/i.exec(text);
  if (!match) return { ok: false, reason: `"${input}" is not ${DURATION_HINT}` };
  const amount = Number(match[1]);
  const unit = (match[2] ?? "").toLowerCase();
  if (!Number.isSafeInteger(amount)) return { ok: false, reason: `"${input}" is too large` };
  if (unit === "") return { ok: true, ms: amount };
  const entry = UNIT_MS.find(([labels]) => labels.includes(unit));
  if (!entry) {
    return {
      ok: false,
      reason: `"${match[2]}" in "${input}" is not a time unit (use d, h, min/m, s/sec, ms, us or ns)`,
    };
  }
  return { ok: true, ms: amount * entry[1] };
}
