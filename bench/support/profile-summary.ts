/**
 * Self time of a .cpuprofile grouped into what a request-reply server spends it on (kernel
 * write, node's HTTP stack, protocol code, SDK parts, promises, GC), as shares of busy time:
 * unlike absolute times, shares do not move much with how loaded the machine was.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const GROUPS: Array<[string, (name: string, url: string) => boolean]> = [
  ["writev (kernel write of the response)", (name) => name === "writev" || name === "writeBuffer"],
  ["generated protocol code (@bufbuild/protobuf)", (_, url) => url.includes("@bufbuild")],
  [
    "SDK wire code (hand reader/writer, int)",
    (_, url) => url.includes("/handler/wire/") || url.includes("builtin-types"),
  ],
  ["SDK node adapter", (_, url) => url.includes("packages/sdk/src/adapters/")],
  ["SDK handler, registry, context, storage", (_, url) => url.includes("packages/sdk/src/")],
  ["bench server code", (_, url) => url.includes("/bench/")],
  [
    "promises / ticks",
    (name, url) =>
      name === "runMicrotasks" || url.includes("task_queues") || url.includes("process/promises"),
  ],
  [
    "node http + streams/net + events",
    (_, url) => /^node:(_http|net|events|stream|internal\/streams|internal\/stream_base)/.test(url),
  ],
  ["V8 glue (program) + GC", (name) => name === "(program)" || name === "(garbage collector)"],
];

/** Shares of busy time per group, in GROUPS order, plus "other". */
export function profileShares(path: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const sums = new Map<string, number>(GROUPS.map(([group]) => [group, 0]));
  sums.set("other", 0);
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (!frame || frame.functionName === "(idle)") return;
    busy += weight;
    const group = GROUPS.find(([, matches]) => matches(frame.functionName, frame.url))?.[0] ?? "other";
    sums.set(group, (sums.get(group) ?? 0) + weight);
  });
  return new Map([...sums].map(([group, sum]) => [group, busy > 0 ? (100 * sum) / busy : 0]));
}

/** A Markdown table, one column per profile. */
export function sharesTable(columns: Array<[string, string]>): string {
  const shares = columns.map(([, path]) => profileShares(path));
  const groups = [...(shares[0]?.keys() ?? [])];
  const rows = [
    `| share of busy time | ${columns.map(([name]) => name).join(" | ")} |`,
    `| --- | ${columns.map(() => "---").join(" | ")} |`,
    ...groups.map(
      (group) =>
        `| ${group} | ${shares.map((share) => `${(share.get(group) ?? 0).toFixed(1)} %`).join(" | ")} |`,
    ),
  ];
  return rows.join("\n");
}
