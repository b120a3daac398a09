import type { Command } from "commander";
import { defaultRegistry } from "../config/component-registry.js";
import { registerHostKinds } from "../host/host-kinds.js";
import { registerIoKinds } from "../io/io-kinds.js";

/** `switchboard schema`: a JSON Schema of one module document, for editors. */
export function registerSchemaCommand(program: Command): void {
  program
    .command("schema")
    .description("print a JSON Schema of a module YAML document (for editor completion and checks)")
    .action(() => {
      console.log(
        JSON.stringify(registerHostKinds(registerIoKinds(defaultRegistry())).jsonSchema(), null, 2),
      );
    });
}
