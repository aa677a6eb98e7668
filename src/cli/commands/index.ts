// Every CLI command, one file each. Add a line here to register a new one.
import type { Command } from 'commander';
import { registerMigrate } from './migrate.ts';
import { registerStatus } from './status.ts';

export const commands: ((program: Command) => void)[] = [registerMigrate, registerStatus];
