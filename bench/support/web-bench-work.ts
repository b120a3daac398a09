/** The work both sides of bench/web-function.ts do: a zod-validated JSON order, priced. */
import { z } from "zod";

export const order = z.object({ item: z.string(), quantity: z.number().int().positive() });

export function priced(value: z.infer<typeof order>): { item: string; quantity: number; total: number } {
  return { item: value.item, quantity: value.quantity, total: value.quantity * 3 };
}
