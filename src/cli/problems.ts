/** Prints config problems as `hourglass validate` and `hourglass run` do: a count, then one per line. */
export function printProblems(prefix: string, problems: readonly string[]): void {
  process.stderr.write(
    `${prefix}: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
  );
}
