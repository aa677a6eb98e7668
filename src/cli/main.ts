#!/usr/bin/env node
// liuke — the command line. Each command lives in src/cli/commands/ and calls core.
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';
import { reportFailure } from './context.ts';

const [major] = process.versions.node.split('.').map(Number);
if ((major ?? 0) < 24) {
  process.stderr.write(
    `liuke: needs Node 24 or newer, this is ${process.version}. Run it through npm (npm start, npm run liuke -- …) ` +
      'or bin/liuke, which use the Node pinned in node_modules.\n',
  );
  process.exit(1);
}

const program = new Command('liuke')
  .description('Liuke (留客): customer-retention engine')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; usage errors were already printed.
    process.exitCode = e.exitCode;
  } else {
    process.exitCode = reportFailure(e);
  }
}
