#!/usr/bin/env node
import { main } from './cli/main.js';

const code = await main(process.argv.slice(2));
// Let pino flush its buffered logs before exiting.
setImmediate(() => process.exit(code));
