/**
 * The files `switchboard init` writes: a module with one stateful function and one web
 * function, served by the host, fed by a playground ingress and read from a playground egress,
 * with a test for both. Kept as plain text so what a user gets is easy to read here.
 */
/**
 * Where a new project's Switchboard packages come from. `registry`: version ranges, what a
 * user outside this repository gets. `checkout`: absolute paths of a Switchboard checkout's
 * packages (`switchboard init --link`), run from their TypeScript sources, for developing
 * Switchboard itself.
 */
export interface PackageSources {
  readonly kind: "registry" | "checkout";
  /** A version range, or an absolute directory for `checkout`. */
  readonly sdk: string;
  readonly runtime: string;
  /** The tsx and zod version ranges the runtime itself uses. */
  readonly tsx: string;
  readonly zod: string;
}

/** Type-checking the project (`npm run typecheck`); the runtime does not need them. */
const TYPESCRIPT = "~6.0.3";
const NODE_TYPES = "^20.19.0";

/** In a checkout the CLI runs from the linked sources, so edits to Switchboard apply at once. */
const CHECKOUT_CLI = "node --conditions=development --import tsx node_modules/switchboard/src/cli/main.ts";

function scripts(sources: PackageSources): Record<string, string> {
  const cli = sources.kind === "checkout" ? CHECKOUT_CLI : "switchboard";
  const node = sources.kind === "checkout" ? "node --conditions=development" : "node";
  // npm runs a script in `sh -c`, and a SIGTERM to npm reaches only that shell, which
  // exits and leaves its child serving: exec makes the runtime the process npm signals.
  return {
    start: `exec ${cli} run module.yaml`,
    dev: `exec ${cli} dev module.yaml`,
    test: `${node} --import tsx --test --test-reporter=spec test/*.test.ts`,
    typecheck: "tsc",
    validate: `${cli} validate module.yaml`,
  };
}

export function projectFiles(name: string, sources: PackageSources): Record<string, string> {
  const link = sources.kind === "checkout" ? "file:" : "";
  return {
    "package.json": `${JSON.stringify(
      {
        name,
        version: "0.1.0",
        private: true,
        type: "module",
        engines: { node: ">=20" },
        scripts: scripts(sources),
        dependencies: {
          "@switchboard/sdk": `${link}${sources.sdk}`,
          switchboard: `${link}${sources.runtime}`,
          zod: sources.zod,
        },
        devDependencies: { "@types/node": NODE_TYPES, tsx: sources.tsx, typescript: TYPESCRIPT },
        // npm asks before running install scripts: better-sqlite3 builds its addon, esbuild
        // (under tsx) checks its binary. Both are needed.
        allowScripts: { "better-sqlite3": true, esbuild: true },
      },
      null,
      2,
    )}\n`,
    "module.yaml": MODULE_YAML,
    "functions.ts": FUNCTIONS_TS,
    "test/functions.test.ts": TEST_TS,
    "tsconfig.json": tsconfig(sources),
    ".gitignore": "node_modules/\n.switchboard/\n",
    "README.md": readme(name, sources),
  };
}

const MODULE_YAML = `# The functions in functions.ts, run inside Switchboard's host (no separate server).
kind: io.switchboard.functions.v1/module
spec:
  module: ./functions.ts
  functions: [app/counter]
  web: [hello]
  limits:
    timeout: 10s
---
# Web functions: http://127.0.0.1:8092/functions/<name>
kind: io.switchboard.functions.v1/web
spec:
  port: 8092
---
# Messages in: POST http://127.0.0.1:8090/<namespace>/<name>/<id>
kind: io.statefun.playground.v1/ingress
spec:
  port: 8090
---
# Records out: GET http://127.0.0.1:8091/<topic> pops the oldest one.
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics: [counts]
`;

const FUNCTIONS_TS = `import { INT, playgroundEgressMessage, StatefulFunctions, valueSpec, webFunction } from "@switchboard/sdk";

const COUNT = valueSpec("count", INT);

/**
 * A stateful function: each address (app/counter/<id>) counts the messages it received,
 * durably, and reports the new count on the "counts" topic of the playground egress.
 */
export const functions = new StatefulFunctions().register({
  typename: "app/counter",
  specs: [COUNT],
  fn: (context, message) => {
    const count = (context.storage.get(COUNT) ?? 0) + 1;
    context.storage.set(COUNT, count);
    const from = message.isString() ? \` (\${message.asString()})\` : "";
    context.sendEgress(playgroundEgressMessage("counts", \`\${context.self.id}: \${count}\${from}\`));
  },
});

/** A web function: any method on /functions/hello[?name=...]; a text body also names who to greet. */
export const hello = webFunction({
  name: "hello",
  input: "text",
  handler: (body, request) => {
    const name = body.trim() || request.query.name?.[0] || "world";
    return { greeting: \`Hello, \${name}!\` };
  },
});
`;

const TEST_TS = `import assert from "node:assert/strict";
import { test } from "node:test";
import { address, messageBuilder } from "@switchboard/sdk";
import { TestRuntime, WebTestHost } from "@switchboard/sdk/testing";
import { functions, hello } from "../functions.js";

test("the counter counts per address and reports each count", async () => {
  const runtime = new TestRuntime(functions);
  await runtime.send(messageBuilder({ typename: "app/counter", id: "a", value: "hi" }));
  await runtime.send(messageBuilder({ typename: "app/counter", id: "a", value: "again" }));
  await runtime.send(messageBuilder({ typename: "app/counter", id: "b", value: "hi" }));
  assert.deepEqual(runtime.playgroundRecords("counts"), ["a: 1 (hi)", "a: 2 (again)", "b: 1 (hi)"]);
  assert.equal(runtime.history.at(-1)?.target.typename, address("app/counter", "b").typename);
});

test("hello greets the name in the body, else the query, else the world", async () => {
  const host = new WebTestHost({ functions: [hello] });
  assert.deepEqual((await host.request(hello, { body: "Ada" })).json(), { greeting: "Hello, Ada!" });
  assert.deepEqual((await host.request(hello, { path: "?name=Grace" })).json(), { greeting: "Hello, Grace!" });
  const plain = await host.request(hello);
  assert.equal(plain.status, 200);
  assert.equal(plain.header("content-type"), "application/json");
  assert.deepEqual(plain.json(), { greeting: "Hello, world!" });
});
`;

function tsconfig(sources: PackageSources): string {
  const compilerOptions = {
    target: "ES2022",
    lib: ["ES2023"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    ...(sources.kind === "checkout" ? { customConditions: ["development"] } : {}),
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    // TypeScript 6 no longer picks up every @types package by itself.
    types: ["node"],
  };
  return `${JSON.stringify({ compilerOptions, include: ["*.ts", "test"] }, null, 2)}\n`;
}

function readme(name: string, sources: PackageSources): string {
  return `# ${name}

A Switchboard project: one stateful function and one web function (functions.ts), run by
Switchboard's host as module.yaml says, with tests that need no network (test/).

\`\`\`sh
npm install
npm start          # switchboard run module.yaml: runs until Ctrl-C or SIGTERM
npm run dev        # switchboard dev module.yaml: the same, reloading in place when you save
npm test           # the tests in test/, in-process
npm run typecheck  # tsc over functions.ts and the tests
npm run validate   # checks module.yaml and prints its effective settings
\`\`\`

Then, while it runs:

\`\`\`sh
curl -d Ada http://127.0.0.1:8092/functions/hello            # {"greeting":"Hello, Ada!"}
curl -d hi  http://127.0.0.1:8090/app/counter/a               # 202: stored, then delivered
curl        http://127.0.0.1:8091/counts                      # a: 1 (hi)
\`\`\`

State lives in \`.switchboard/\` and survives restarts. The admin page (metrics, health, the
state of any address) is on http://127.0.0.1:8099/.

## Ports

| port | what | to move it |
| --- | --- | --- |
| 8090 | playground ingress | \`port:\` of \`io.statefun.playground.v1/ingress\` in module.yaml |
| 8091 | playground egress | \`port:\` of \`io.statefun.playground.v1/egress\` in module.yaml |
| 8092 | web functions | \`port:\` of \`io.switchboard.functions.v1/web\` in module.yaml |
| 8099 | admin | \`npm start -- --admin-port 9099\` (or \`--no-admin\`) |
${sources.kind === "checkout" ? checkoutNote(sources) : ""}
## Files

- \`module.yaml\`: the module (which functions and web functions it serves), the web
  listener (port 8092), a playground ingress (8090) and egress (8091, topic \`counts\`).
- \`functions.ts\`: \`app/counter\` (stateful) and \`hello\` (web).
- \`test/functions.test.ts\`: \`TestRuntime\` and \`WebTestHost\` from \`@switchboard/sdk/testing\`.
`;
}

function checkoutNote(sources: PackageSources): string {
  return `
## Where Switchboard comes from

This project was made with \`switchboard init --link\`: package.json links it to the
Switchboard checkout it was created from, by absolute path:

- \`@switchboard/sdk\` -> \`${sources.sdk}\`
- \`switchboard\` -> \`${sources.runtime}\`

That checkout must have its own dependencies installed (\`npm ci\` in it). The scripts run
the runtime from its TypeScript sources (\`--conditions=development --import tsx\`), so edits
to Switchboard apply without a build. If the checkout moves, change the two \`file:\` paths
and run \`npm install\` again.
`;
}
