import { z } from "zod";

/** Where one of Switchboard's own HTTP servers listens (spread into a component's spec). */
export const listenAddressShape = {
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535),
  /** The interface to bind; loopback unless told otherwise. */
  host: z.string().default("127.0.0.1"),
};
