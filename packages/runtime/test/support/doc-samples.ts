/**
 * The fenced code blocks of the README and the docs, for the tests that keep them true
 * (docs-samples.test.ts checks them against the code, docs-shell-samples.test.ts runs the
 * shell ones).
 *
 * A block may be preceded by an HTML comment that tells those tests how to treat it, invisible
 * on the rendered page:
 *
 *   <!-- sample: skip <reason> -->   not run; the reason says why and what tests it instead
 *   <!-- sample: side by side -->    its long-running commands run together, each as in a
 *                                    terminal of its own (by default one replaces the last)
 *   <!-- sample: own dir <why> -->   runs in an empty directory of its own, not the page's
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const REPO = new URL("../../../../", import.meta.url).pathname;

/** Every page whose samples are checked, relative to the repository. */
export function pages(): string[] {
  const inDir = (dir: string) =>
    readdirSync(join(REPO, dir))
      .filter((name) => name.endsWith(".md"))
      .map((name) => join(dir, name));
  const readmes = (dir: string) =>
    readdirSync(join(REPO, dir))
      .map((name) => join(dir, name, "README.md"))
      .filter((file) => existsSync(join(REPO, file)));
  return ["README.md", "bench/README.md", ...inDir("docs"), ...readmes("examples"), ...readmes("packages")];
}

export type SampleMarker =
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "side by side" }
  | { readonly kind: "own dir"; readonly reason: string };

export interface Sample {
  readonly page: string;
  /** The line of the opening fence, 1-based. */
  readonly line: number;
  readonly info: string;
  readonly code: string;
  readonly marker?: SampleMarker;
}

const MARKER = /<!--\s*sample:\s*(skip|side by side|own dir)\b[\s,:]*(.*?)\s*-->\s*$/;

function markerBefore(text: string, fenceIndex: number, where: string): SampleMarker | undefined {
  // The comment is the last non-blank line before the fence.
  const before = text.slice(0, fenceIndex).trimEnd();
  const last = before.slice(before.lastIndexOf("\n") + 1);
  if (!last.includes("<!-- sample:")) return undefined;
  const match = MARKER.exec(last);
  if (!match) throw new Error(`${where}: a sample marker this test does not know: ${last}`);
  const [, kind, rest = ""] = match;
  if (kind === "side by side") return { kind };
  if (!rest) throw new Error(`${where}: "sample: ${kind}" needs a reason`);
  return { kind: kind as "skip" | "own dir", reason: rest };
}

export function samplesIn(page: string): Sample[] {
  const text = readFileSync(join(REPO, page), "utf8");
  const found: Sample[] = [];
  for (const match of text.matchAll(/^```([^\n]*)\n(.*?)^```/gms)) {
    const line = text.slice(0, match.index).split("\n").length;
    const marker = markerBefore(text, match.index, `${page}:${line}`);
    found.push({
      page,
      line,
      info: (match[1] ?? "").trim(),
      code: match[2] ?? "",
      ...(marker ? { marker } : {}),
    });
  }
  return found;
}

export function samples(): Sample[] {
  return pages().flatMap(samplesIn);
}

export const where = (sample: Sample, lineInSample = 0) => `${sample.page}:${sample.line + lineInSample}`;

/** Shell blocks: sh and bash are commands; console is a transcript, commands after `$ `. */
export const SHELL_INFOS = new Set(["sh", "bash", "shell", "console"]);
