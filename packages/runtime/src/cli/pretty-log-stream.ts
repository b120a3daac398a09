/**
 * Turns pino's JSON lines into one readable line each for a terminal:
 * `12:00:01 ERROR batch failed ... address=test/a/1 code=SB_...`. Used only when stderr is
 * a TTY; pipes and files keep JSON.
 */
const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
};

export function prettyLogStream(out: { write(text: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { time, level, msg, ...fields } = entry;
      const clock = typeof time === "number" ? new Date(time).toISOString().slice(11, 19) : "--:--:--";
      const pairs = Object.entries(fields).map(([key, value]) => `${key}=${format(value)}`);
      out.write(
        `${clock} ${LEVELS[Number(level)] ?? String(level)} ${msg ?? ""}${pairs.length ? `  ${pairs.join(" ")}` : ""}\n`,
      );
    },
  };
}

function format(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}
