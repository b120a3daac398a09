#!/usr/bin/env node
// Entry point installed as `switchboard`; the implementation is the compiled CLI in dist/.
// In a checkout, `npm ci` builds dist/ (the root `prepare` script); when it is missing (an
// install with --ignore-scripts), say how to build rather than show a module-resolution trace.
const compiled = new URL("../dist/cli/main.js", import.meta.url);

let cli;
try {
  cli = await import(compiled.href);
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes(compiled.pathname)) {
    const root = new URL("../../..", import.meta.url).pathname;
    console.error(
      `switchboard is not built: ${compiled.pathname} is missing.\nRun \`npm run build\` in ${root} (npm ci runs it too, unless scripts are ignored).`,
    );
    process.exit(1);
  }
  throw error;
}

cli.main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
