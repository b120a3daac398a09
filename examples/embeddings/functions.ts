/**
 * The seed's embedding function: POST a JSON array of documents to /functions/embed and get
 * their vectors back, in input order. The OpenAI key never reaches this code: the host adds
 * it to calls to the "openai" upstream (see module.yaml).
 */
import { http, json, WebResponse, webFunction } from "@switchboard/sdk";
import { z } from "zod";

const Documents = z.array(z.string().min(1)).min(1).max(2048);

const EmbeddingResponse = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: z.number().int() })),
});

export const embed = webFunction({
  name: "embed",
  input: json(Documents),
  handler: async (documents) => {
    const response = await http.invoke({
      upstream: "openai",
      url: "/v1/embeddings",
      method: "POST",
      json: { model: "text-embedding-3-small", encoding_format: "float", input: documents },
    });
    if (response.status !== 200) {
      // Pass the upstream's status and error body through; the caller sees what OpenAI said.
      return new WebResponse(response.status).header("content-type", "application/json").body(response.body);
    }
    const { data } = EmbeddingResponse.parse(await response.body.json());
    return data.sort((a, b) => a.index - b.index);
  },
});
