/**
 * `npm run lab -- <verb> [options]`: Purification Lab without a window. The CLI itself is
 * cli.ts's runCli (verbs/ holds one module per verb); this file is the process around it.
 */
import { runCli } from './cli.ts';
import { processIo } from './cliIo.ts';

process.exit(await runCli(process.argv.slice(2), processIo()));
