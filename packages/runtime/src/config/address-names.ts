/**
 * The one rule for the parts of an address, wherever they are written: `functions` in
 * endpoint and module YAML (namespace, name), ingress paths and the admin API (namespace,
 * name, id). What one place accepts, every other place can name.
 */
export type AddressPart = "namespace" | "name" | "id";

const WHITESPACE = /\s/;

/** Why `value` cannot be this part of an address, or undefined when it can. */
export function addressPartProblem(part: AddressPart, value: string): string | undefined {
  if (value.length === 0) return `the ${part} is empty`;
  if (hasControlCharacter(value)) return `the ${part} ${JSON.stringify(value)} has a control character`;
  if (part === "id") return dotSegmentProblem(part, value);
  if (WHITESPACE.test(value)) return `the ${part} ${JSON.stringify(value)} has whitespace`;
  if (value.includes("*")) {
    return `the ${part} ${JSON.stringify(value)} has a *, which only a functions pattern may use, as a whole name (namespace/*)`;
  }
  if (part === "name") {
    if (value.includes("/")) return `the name ${JSON.stringify(value)} has a /`;
    return dotSegmentProblem(part, value);
  }
  // A namespace may hold '/' (typenames split at their last one), between non-empty parts.
  for (const segment of value.split("/")) {
    const problem =
      segment.length === 0
        ? `the namespace ${JSON.stringify(value)} has an empty part between slashes`
        : dotSegmentProblem(part, segment);
    if (problem) return problem;
  }
  return undefined;
}

/** The first problem of an address's three parts, or undefined. */
export function addressProblem(namespace: string, name: string, id: string): string | undefined {
  return (
    addressPartProblem("namespace", namespace) ??
    addressPartProblem("name", name) ??
    addressPartProblem("id", id)
  );
}

/** URLs normalise `.` and `..` away, so an address holding one could never be named again. */
function dotSegmentProblem(part: AddressPart, value: string): string | undefined {
  return value === "." || value === ".."
    ? `the ${part} cannot be "${value}" (URLs resolve it away, so the admin API could never name it)`
    : undefined;
}

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
