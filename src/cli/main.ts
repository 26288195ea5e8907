import { readFileSync } from 'node:fs';
import { errorMessage } from '../component/errors.js';
import { didYouMean } from '../config/suggest.js';
import { inProcess, type Command, type CommandContext } from './command.js';
import { COMMANDS } from './commands.js';

export type { CommandContext } from './command.js';

/**
 * `hourglass <command>`: the entry point. `src/cli.ts` calls it and is the one place that exits
 * the process. Commands are listed in `commands.ts`.
 */
const commands = new Map<string, Command>(COMMANDS);

function usage(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length)) + 2;
  const lines = [...commands].map(([name, c]) => {
    const [first, ...more] = c.summary.split('\n');
    return [
      `  ${name.padEnd(width)}${first}`,
      ...more.map((l) => `  ${' '.repeat(width)}${l}`),
    ].join('\n');
  });
  return `usage: hourglass <command> [--config FILE] [options]

commands:
${lines.join('\n')}

options:
  --config FILE  the Collector-style YAML config
  --help         this text (hourglass <command> --help: the command's own options)
  --version      print the version`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[], context: CommandContext = inProcess): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (first === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = commands.get(name);
  if (!command) {
    const hint = didYouMean(name, commands.keys());
    process.stderr.write(`hourglass: unknown command "${name}"${hint}\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(args, context);
  } catch (err) {
    process.stderr.write(`hourglass ${name}: ${errorMessage(err)}\n`);
    return 2;
  }
}
