/**
 * `npm run bench -- <name> [args...]` runs bench/<name>.ts. Each benchmark measures its own
 * baseline in the same run and prints a ratio, because absolute numbers drift on shared machines.
 */
import { existsSync, readdirSync } from "node:fs";

const [name, ...rest] = process.argv.slice(2);
const here = new URL(".", import.meta.url);
const available = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -3));

if (!name || !existsSync(new URL(`${name}.ts`, here))) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none yet)"}`);
  process.exit(2);
}
process.argv = [process.argv[0] ?? "node", new URL(`${name}.ts`, here).pathname, ...rest];
await import(new URL(`${name}.ts`, here).href);
