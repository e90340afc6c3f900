/**
 * Writes a result to stdout and resolves once it has been handed to the OS (large results:
 * `iam-policy --split`, `export`, `plan --json` of a fleet; the bin script also waits for stdout
 * before it exits).
 */
export function writeStdout(text: string): Promise<void> {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return new Promise((resolve, reject) => {
    process.stdout.write(body, (err) => (err ? reject(err) : resolve()));
  });
}

/** {@link writeStdout} of `data` as indented JSON. */
export function writeStdoutJson(data: unknown): Promise<void> {
  return writeStdout(JSON.stringify(data, null, 2));
}
