// Terminal prompts for `espdht init`: plain answers with a default, and secrets read without echo.
import readline from "node:readline";

export class PromptAborted extends Error {}

export function ask(question: string, def: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve, reject) => {
    rl.on("SIGINT", () => { rl.close(); reject(new PromptAborted("cancelled")); });
    rl.question(`${question}${def ? ` [${def}]` : ""}: `, (answer) => {
      rl.close();
      resolve(answer.trim() === "" ? def : answer.trim());
    });
  });
}

/** Reads a secret without echoing it; Enter on an empty line keeps `current`. */
export function askSecret(question: string, hasCurrent: boolean): Promise<string | null> {
  const stdin = process.stdin;
  process.stderr.write(`${question}${hasCurrent ? " [keep current]" : ""}: `);
  return new Promise((resolve, reject) => {
    let value = "";
    const wasRaw = stdin.isRaw;
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (fn: () => void) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(wasRaw ?? false);
      stdin.pause();
      process.stderr.write("\n");
      fn();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done(() => resolve(value === "" && hasCurrent ? null : value));
        if (ch === "\u0003") return done(() => reject(new PromptAborted("cancelled")));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
