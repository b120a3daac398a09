#!/usr/bin/env node
// Entry point installed as `switchboard`; the implementation is the compiled CLI.
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
