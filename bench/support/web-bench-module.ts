/** The web function measured by bench/web-function.ts: validate a JSON order, answer JSON. */
import { json, webFunction } from "@switchboard/sdk";
import { order, priced } from "./web-bench-work.js";

export const price = webFunction({ name: "price", input: json(order), handler: (value) => priced(value) });
