/**
 * What running a shell sample means, command by command: the reader's steps as the test takes
 * them. Most commands run as written; a few are stood in for (the checkout is installed
 * already; `npm install` would fetch from a registry the packages are not on), a few are not
 * run at all, each with its reason, and the long-running ones (`switchboard run|dev`,
 * `npm start`, `npm run dev`) are started, left serving for the samples that follow, and
 * stopped by the test.
 */
import { type Sample, where } from "./doc-samples.js";

/** Where a page's reader stands when its first sample starts. */
export type PageContext =
  /** In this checkout (the README's quick start). */
  | "checkout"
  /** In an empty directory, about to make a project. */
  | "empty dir"
  /** In a copy of examples/greeter, the module the README's `npm start` runs (module.yaml, HTTP functions). */
  | "greeter"
  /** In a project made by `switchboard init` and installed. */
  | "project";

export type Step =
  | { readonly kind: "cd"; readonly at: string; readonly command: string; readonly dir: string }
  /** Runs to its end and must succeed; its stdout must be `expected` when the sample shows it. */
  | { readonly kind: "run"; readonly at: string; readonly command: string; readonly expected?: string }
  /** Keeps serving until the page ends or, unless side by side, the next one starts. */
  | {
      readonly kind: "serve";
      readonly at: string;
      readonly command: string;
      readonly expected?: string;
      readonly sideBySide: boolean;
    }
  | {
      readonly kind: "stand-in";
      readonly at: string;
      readonly command: string;
      readonly does: "install" | "nothing";
      readonly reason: string;
    }
  | { readonly kind: "not run"; readonly at: string; readonly command: string; readonly reason: string };

export interface SamplePlan {
  readonly sample: Sample;
  /** Set when the sample runs in an empty directory of its own: why. */
  readonly ownDir?: string;
  readonly steps: readonly Step[];
}

/** What a long-running command prints once it serves (`run`, `dev`, the repository's `npm start`). */
export const SERVING = /is running;|Ctrl-C stops/;

interface CommandLine {
  readonly offset: number;
  readonly text: string;
  readonly expected?: string;
}

/** A sh/bash block's command lines: comments dropped, `\` continuations joined. */
function scriptLines(code: string): CommandLine[] {
  const lines: CommandLine[] = [];
  let pending: { offset: number; text: string } | undefined;
  for (const [index, raw] of code.split("\n").entries()) {
    const text = withoutComment(raw);
    const joined = pending ? `${pending.text} ${text}` : text;
    const offset = pending?.offset ?? index + 1;
    if (joined.endsWith("\\")) pending = { offset, text: joined.slice(0, -1).trimEnd() };
    else {
      pending = undefined;
      if (joined) lines.push({ offset, text: joined });
    }
  }
  return lines;
}

/** A console block's commands (after `$ `), each with the output shown under it. */
function transcriptLines(code: string): CommandLine[] {
  const lines: CommandLine[] = [];
  const rows = code.split("\n");
  for (const [index, row] of rows.entries()) {
    if (!row.startsWith("$ ")) continue;
    const output: string[] = [];
    for (const next of rows.slice(index + 1)) {
      if (next.startsWith("$ ")) break;
      output.push(next);
    }
    const expected = output.join("\n").trimEnd();
    lines.push({ offset: index + 1, text: withoutComment(row.slice(2)), ...(expected ? { expected } : {}) });
  }
  return lines;
}

/** The line without a trailing `# comment` (a `#` that starts a word, outside quotes). */
function withoutComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = "";
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "#" && (i === 0 || /\s/.test(line[i - 1] ?? ""))) return line.slice(0, i).trim();
  }
  return line.trim();
}

/** A line's commands split at `&&` outside quotes; anything fancier runs as one shell command. */
function andList(line: string): string[] {
  const parts: string[] = [];
  let quote = "";
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = "";
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "&" && line[i + 1] === "&") {
      parts.push(line.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  parts.push(line.slice(start).trim());
  return parts.filter(Boolean);
}

/** The words that name the program, after any `NAME=value` environment assignments. */
function programWords(command: string): string[] {
  const words = command.split(/\s+/);
  while (words[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift();
  return words;
}

function classify(
  command: string,
  at: string,
  context: PageContext,
  sideBySide: boolean,
  expected?: string,
): Step {
  const words = programWords(command);
  const [program, first, second] = words;
  const cli = program === "npx" ? words.slice(1) : words;
  if (program === "cd" && first && words.length === 2) return { kind: "cd", at, command, dir: first };
  if (program === "npm" && first === "ci" && words.length === 2)
    return {
      kind: "stand-in",
      at,
      command,
      does: "nothing",
      reason: "the tests run in an installed checkout",
    };
  if (program === "npm" && (first === "install" || first === "i") && words.length === 2)
    return {
      kind: "stand-in",
      at,
      command,
      does: "install",
      reason: "the packages are not on a registry: the project gets this checkout's, linked",
    };
  if (program === "npm" && first === "test" && context === "checkout")
    return { kind: "not run", at, command, reason: "the whole test suite, which this test is part of" };
  const serves =
    (cli[0] === "switchboard" && (cli[1] === "run" || cli[1] === "dev") && !cli.includes("--help")) ||
    (program === "npm" && first === "start") ||
    (program === "npm" && first === "run" && second === "dev");
  if (serves) return { kind: "serve", at, command, sideBySide, ...(expected ? { expected } : {}) };
  return { kind: "run", at, command, ...(expected ? { expected } : {}) };
}

export function planSample(sample: Sample, context: PageContext): SamplePlan {
  const lines = sample.info === "console" ? transcriptLines(sample.code) : scriptLines(sample.code);
  const marker = sample.marker;
  const steps: Step[] = [];
  for (const line of lines) {
    const at = where(sample, line.offset);
    const commands = andList(line.text);
    for (const [index, command] of commands.entries()) {
      // The output shown belongs to the last command of the line.
      const expected = index === commands.length - 1 ? line.expected : undefined;
      steps.push(
        marker?.kind === "skip"
          ? { kind: "not run", at, command, reason: marker.reason }
          : classify(command, at, context, marker?.kind === "side by side", expected),
      );
    }
  }
  return { sample, steps, ...(marker?.kind === "own dir" ? { ownDir: marker.reason } : {}) };
}
