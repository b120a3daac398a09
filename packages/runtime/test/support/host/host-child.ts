/**
 * Runs a Runtime in a process of its own so a test can measure that process's memory:
 * prints `{"url": ...}` once listening, and on a line "stop" on stdin prints
 * `{"maxRssBytes": ...}` and exits.
 */
import { createInterface } from "node:readline";
import { Runtime } from "../../../src/runtime.js";

const [file, dataDir] = process.argv.slice(2) as [string, string];
const runtime = await Runtime.start({ modules: [file], dataDir });
const listener = runtime.host.listeners[0];
console.log(JSON.stringify({ url: `${listener?.url}/functions` }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== "stop") continue;
  await runtime.stop();
  console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}
