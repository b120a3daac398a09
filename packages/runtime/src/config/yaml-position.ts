import { type Document, isNode, isPair, type LineCounter } from "yaml";
import type { SourceLocation } from "./model.js";

export type YamlPath = ReadonlyArray<string | number>;

/**
 * The line:col of the node at `path`; for a missing key, the nearest existing parent (a
 * missing key is reported where it should have been written).
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  path: YamlPath,
): SourceLocation {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    const range = isNode(node) ? node.range : undefined;
    if (range) return at(lineCounter, file, range[0]);
  }
  const contents = doc.contents;
  return at(lineCounter, file, isNode(contents) && contents.range ? contents.range[0] : 0);
}

/** The position of a key itself (for unknown-key warnings). */
export function keyPositionOf(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  parent: YamlPath,
  key: string,
): SourceLocation {
  const map = doc.getIn(parent, true) as { items?: unknown[] } | undefined;
  for (const item of map?.items ?? []) {
    if (
      isPair(item) &&
      isNode(item.key) &&
      String((item.key as { value?: unknown }).value) === key &&
      item.key.range
    ) {
      return at(lineCounter, file, item.key.range[0]);
    }
  }
  return positionOf(doc, lineCounter, file, [...parent, key]);
}

function at(lineCounter: LineCounter, file: string, offset: number): SourceLocation {
  const { line, col } = lineCounter.linePos(offset);
  return { file, line, col };
}
