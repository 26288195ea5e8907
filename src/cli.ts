#!/usr/bin/env node
import { main } from './cli/main.js';
import { watchOutput } from './cli/output.js';

const code = await main(process.argv.slice(2), watchOutput());
// Let pino flush its buffered logs before exiting.
setImmediate(() => process.exit(code));
