// `espdht unlink A B`: the other half of cli/commands/link.ts.
import { runLink } from "./link";

export function run(argv: string[]): Promise<number> {
  return runLink(false, argv);
}
