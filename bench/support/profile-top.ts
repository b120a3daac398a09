/**
 * The functions with the most self time in a .cpuprofile (V8, e.g. from --cpu-prof), as shares
 * of the sampled time, and the share under named functions (self + callees), to say what limits
 * a benchmark figure from a profile rather than a guess.
 *
 *   node --import tsx bench/support/profile-top.ts <file.cpuprofile> [top=25] [functionName...]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg = "25", ...named] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [top] [functionName...]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const selfUs = new Map<number, number>();
let totalUs = 0;
profile.samples.forEach((id, k) => {
  const us = profile.timeDeltas[k] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  totalUs += us;
});

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(packages|node_modules|bench)\//, "$1/")}:${lineNumber + 1}` : "";
  return `${functionName || "(anonymous)"} ${where}`.trim();
};
const bySelf = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (node) bySelf.set(label(node), (bySelf.get(label(node)) ?? 0) + us);
}
const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1)} %`;
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled`);
for (const [name, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`${pct(us).padStart(8)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
}
for (const name of named) {
  let us = 0;
  for (const [id, self] of selfUs) {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)?.callFrame.functionName === name) {
        us += self;
        break;
      }
    }
  }
  console.log(`under ${name}: ${pct(us)} (${(us / 1000).toFixed(0)} ms)`);
}
