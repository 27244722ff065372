import { abortMessage, writeConsole } from "./env";

/** Abort the current transaction or query with `message`; psibase reverts everything it did. */
export function abortWith(message: string): void {
  const bytes = String.UTF8.encode(message);
  abortMessage(changetype<usize>(bytes), <u32>bytes.byteLength);
  unreachable();
}

export function check(cond: bool, message: string): void {
  if (!cond) abortWith(message);
}

/** Write UTF-8 text to the node's console (psibase shows it in the action trace). */
export function log(message: string): void {
  const bytes = String.UTF8.encode(message);
  writeConsole(changetype<usize>(bytes), <u32>bytes.byteLength);
}

/**
 * AssemblyScript's own `abort` (failed assert, out-of-bounds access, …) is routed
 * here by the build (`--use abort=…`), so a service needs no `env.abort` import
 * that a psibase node would refuse to link.
 */
export function psibaseAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? message : "abort";
  if (fileName !== null) text += " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
  abortWith(text);
}
