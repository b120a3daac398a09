/**
 * The README's and docs' samples, checked against the code so they cannot drift: TypeScript
 * samples type-check against the packages, module YAML samples validate, and every
 * `switchboard` command, flag, npm script and repository path in a shell sample exists
 * (docs-shell-samples.test.ts runs them). A TypeScript sample that is deliberately a fragment
 * (it uses names from the text around it) says so in its fence: ```ts fragment.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { projectFiles } from "../src/cli/init/project-files.js";
import { buildProgram } from "../src/cli/main.js";
import { allComponentKinds } from "../src/config/all-component-kinds.js";
import { formatDiagnostic, loadModuleText } from "../src/config/index.js";
import { pages, REPO, type Sample, SHELL_INFOS, samples, where } from "./support/doc-samples.js";

const run = promisify(execFile);

test("every complete TypeScript sample type-checks against the packages", async (t) => {
  const typescript = samples().filter((sample) => sample.info === "ts");
  assert.ok(typescript.length >= 5, "the docs have TypeScript samples");
  // Inside the repository, so @switchboard/sdk resolves as it does for the examples.
  const dir = join(REPO, "tmp", `doc-samples-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const names = new Map<string, Sample>();
  for (const [index, sample] of typescript.entries()) {
    const name = `sample-${index}.ts`;
    names.set(name, sample);
    // Each sample is a module of its own, whether or not it imports anything.
    writeFileSync(join(dir, name), `${sample.code}\nexport {};\n`);
  }
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: { noEmit: true },
      include: ["*.ts"],
    }),
  );
  const tsc = join(REPO, "node_modules/typescript/bin/tsc");
  const result = await run(process.execPath, [tsc, "-p", dir]).catch((error: { stdout: string }) => error);
  const errors = result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [, file = "", row = "0", rest = line] = /(sample-\d+\.ts)\((\d+),\d+\): (.*)/.exec(line) ?? [];
      const sample = names.get(file);
      return sample ? `${sample.page}:${sample.line + Number(row)}: ${rest}` : line;
    });
  assert.deepEqual(errors, [], "a sample that uses names from its text is marked ```ts fragment");
});

test("every module YAML sample with a kind validates", () => {
  const problems: string[] = [];
  for (const sample of samples().filter((sample) => sample.info === "yaml" && /^kind:/m.test(sample.code))) {
    const result = loadModuleText(sample.code, where(sample), allComponentKinds());
    // A sample's `module:` names the reader's own file, which the docs folder does not hold.
    if (!result.ok) {
      const real = result.errors.filter((error) => error.code !== "SB_CONFIG_MISSING_FILE");
      problems.push(...real.map(formatDiagnostic));
    }
  }
  assert.deepEqual(problems, []);
});

/** Commands of a shell sample: comments and prompts dropped, split at && || ; and |. */
function commands(sample: Sample): string[][] {
  const lines = sample.code.split("\n");
  // A transcript (console, or a block without a language) has its commands after `$ `.
  const transcript = sample.info === "console" || sample.info === "";
  const shell = transcript ? lines.filter((line) => line.startsWith("$ ")) : lines;
  return shell
    .map((line) => line.replace(/^\$ /, "").replace(/(^|\s)#.*$/, ""))
    .flatMap((line) => line.split(/&&|\|\||;|\|(?!\|)/))
    .map((command) => command.trim().split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0);
}

/** npm scripts a page's reader has: the repository's, an `init` project's, and an example's own. */
function scriptsFor(page: string): Set<string> {
  const read = (file: string) =>
    Object.keys((JSON.parse(readFileSync(file, "utf8")) as { scripts?: object }).scripts ?? {});
  const project = JSON.parse(
    projectFiles("app", { kind: "registry", sdk: "^0", runtime: "^0", tsx: "^4", zod: "^4" })[
      "package.json"
    ] ?? "{}",
  ) as { scripts: object };
  const own = join(REPO, dirname(page), "package.json");
  return new Set([
    ...read(join(REPO, "package.json")),
    ...Object.keys(project.scripts),
    ...(page.startsWith("examples/") && existsSync(own) ? read(own) : []),
  ]);
}

test("every switchboard command, flag, npm script and path in a shell sample exists", () => {
  const program = buildProgram();
  const problems: string[] = [];
  for (const sample of samples().filter((sample) => SHELL_INFOS.has(sample.info) || sample.info === "")) {
    const scripts = scriptsFor(sample.page);
    for (const words of commands(sample)) {
      const at = `${where(sample)}: ${words.join(" ")}`;
      const cli = words.findIndex((word) => word === "switchboard" || word.endsWith("/cli/main.ts"));
      if (cli !== -1 && words[cli + 1] && !words[cli + 1]?.startsWith("-")) {
        const top = program.commands.find((candidate) => candidate.name() === words[cli + 1]);
        if (!top) problems.push(`${at}: no command "${words[cli + 1]}"`);
        // A command with subcommands (`store init`): the flags belong to the subcommand.
        const sub = top?.commands.find((candidate) => candidate.name() === words[cli + 2]);
        const command = sub ?? top;
        for (const flag of words.slice(cli + (sub ? 3 : 2)).filter((word) => word.startsWith("--"))) {
          const name = flag.split("=")[0] ?? flag;
          if (name === "--help") continue;
          if (command && !command.options.some((option) => option.long === name))
            problems.push(`${at}: ${command.name()} has no ${name}`);
        }
      }
      const npm = words.indexOf("npm");
      const script = words[npm + 1] === "run" ? words[npm + 2] : words[npm + 1];
      if (
        npm !== -1 &&
        ["run", "start", "test"].includes(words[npm + 1] ?? "") &&
        script &&
        !scripts.has(script)
      )
        problems.push(`${at}: no npm script "${script}"`);
      for (const word of words) {
        const path = /^(?:\.\/)?((?:examples|packages|scripts|docs|bench)\/[^\s'"`]*)/.exec(word)?.[1];
        if (path && !path.includes("*") && !existsSync(join(REPO, path.replace(/[),.]+$/, ""))))
          problems.push(`${at}: no ${path} in the repository`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("every code block names its language, so that no command escapes the checks", () => {
  // Shell is sh (commands) or console (a transcript: commands after `$ `); output is text.
  const unnamed = samples()
    .filter((sample) => sample.info === "")
    .map((sample) => `${where(sample)}: \`\`\` with no language (text for output)`);
  assert.deepEqual(unnamed, []);
});

test("every relative link in the docs points at a file that exists", () => {
  const problems: string[] = [];
  for (const page of pages()) {
    const text = readFileSync(join(REPO, page), "utf8");
    for (const match of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
      const target = match[1] ?? "";
      if (/^[a-z]+:/.test(target)) continue;
      const file = join(REPO, dirname(page), target);
      if (!existsSync(file)) problems.push(`${page}: link to ${relative(REPO, file)}, which does not exist`);
    }
  }
  assert.deepEqual(problems, []);
});
