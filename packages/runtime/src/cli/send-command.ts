import type { Command } from "commander";
import { request } from "undici";

interface SendFlags {
  type?: string;
  data: string;
  ingress: string;
}

/** `switchboard send ns/name/id --data ...`: post one message to a running ingress. */
export function registerSendCommand(program: Command): void {
  program
    .command("send")
    .description("send one message to a function through a running playground ingress")
    .argument("<address>", "namespace/name/id")
    .option(
      "-t, --type <typename>",
      "the value's typename (sent as application/vnd.<typename>); default: text as io.statefun.types/string",
    )
    .option("-d, --data <data>", "the message body", "")
    .option("--ingress <url>", "the ingress base URL", "http://127.0.0.1:8090")
    .action(async (address: string, flags: SendFlags) => {
      const path = address.split("/").map(encodeURIComponent).join("/");
      const response = await request(`${flags.ingress.replace(/\/$/, "")}/${path}`, {
        method: "POST",
        headers: {
          "content-type": flags.type ? `application/vnd.${flags.type}` : "text/plain; charset=utf-8",
        },
        body: flags.data,
      });
      const text = await response.body.text();
      console.log(`${response.statusCode} ${text}`);
      if (response.statusCode >= 300) process.exitCode = 1;
    });
}
