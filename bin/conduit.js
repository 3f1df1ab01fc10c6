#!/usr/bin/env node
// The `conduit` command; the implementation is compiled to dist/ by `npm run build`.
import { main } from '../dist/src/cli/main.js';

const status = await main(process.argv.slice(2));
if (status !== null) process.exitCode = status;
