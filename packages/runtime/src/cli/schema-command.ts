import type { Command } from "commander";
import { allComponentKinds } from "../config/all-component-kinds.js";

/** `switchboard schema`: a JSON Schema of one module document, for editors. */
export function registerSchemaCommand(program: Command): void {
  program
    .command("schema")
    .description("print a JSON Schema of a module YAML document (for editor completion and checks)")
    .action(() => {
      console.log(JSON.stringify(allComponentKinds().jsonSchema(), null, 2));
    });
}
