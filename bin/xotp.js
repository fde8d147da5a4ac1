#!/usr/bin/env node
// The installed `xotp` command: runs the compiled CLI (dist/ is built by `npm pack`'s prepack).
// In a checkout without a build, `npm start` / `npx tsx src/cli/main.ts` run the sources instead.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
