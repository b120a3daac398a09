/**
 * The `switchboard` command line. Each subcommand lives in its own file under cli/ and
 * registers itself on the program here; this file only assembles them.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerDevCommand } from "./dev-command.js";
import { registerInitCommand } from "./init-command.js";
import { registerRunCommand } from "./run-command.js";
import { registerSchemaCommand } from "./schema-command.js";
import { registerSendCommand } from "./send-command.js";
import { registerStoreCommand } from "./store-command.js";
import { registerValidateCommand } from "./validate-command.js";

export function runtimeVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command("switchboard")
    .description("Durable, StateFun-compatible stateful functions runtime and function host")
    .version(runtimeVersion(), "-v, --version", "print the version and exit")
    .showHelpAfterError();
  registerInitCommand(program);
  registerRunCommand(program);
  registerDevCommand(program);
  registerSendCommand(program);
  registerValidateCommand(program);
  registerSchemaCommand(program);
  registerStoreCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  await buildProgram().parseAsync(argv as string[], { from: "user" });
}

// Run when executed directly (bin/switchboard.js or `tsx src/cli/main.ts`), not when imported.
const invokedPath = process.argv[1] ? new URL(`file://${process.argv[1]}`).pathname : "";
if (invokedPath.endsWith("/cli/main.ts") || invokedPath.endsWith("/cli/main.js")) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
