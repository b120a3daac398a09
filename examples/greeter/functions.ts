/**
 * The greeter, as in StateFun's playground: `example/person` counts how often it has seen
 * each person and asks `example/greeter` for a greeting, which goes out to the playground
 * egress topic "greetings".
 */
import {
  INT,
  jsonType,
  messageBuilder,
  playgroundEgressMessage,
  StatefulFunctions,
  valueSpec,
} from "@switchboard/sdk";

interface GreetRequest {
  name: string;
  seen: number;
}

const GREET_REQUEST = jsonType<GreetRequest>("example/GreetRequest");
const SEEN = valueSpec("seen", INT);

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}

function greeting({ name, seen }: GreetRequest): string {
  if (seen === 1) return `Hello ${name}! 😎`;
  if (seen === 2) return `Hello again ${name}! 🤗`;
  return `Hello ${name}, good to see you for the ${ordinal(seen)} time! 🎉`;
}

export const functions = new StatefulFunctions()
  .register({
    typename: "example/person",
    specs: [SEEN],
    fn: (context, message) => {
      const seen = (context.storage.get(SEEN) ?? 0) + 1;
      context.storage.set(SEEN, seen);
      const name = message.isString() ? message.asString() : context.self.id;
      context.send(
        messageBuilder({
          typename: "example/greeter",
          id: name,
          value: { name, seen },
          valueType: GREET_REQUEST,
        }),
      );
    },
  })
  .register({
    typename: "example/greeter",
    fn: (context, message) => {
      context.sendEgress(playgroundEgressMessage("greetings", greeting(message.as(GREET_REQUEST))));
    },
  });
