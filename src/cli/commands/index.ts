// Every CLI command, one file each. Add a line here to register a new one.
import type { Command } from 'commander';
import { registerPrivacy } from './privacy.ts';
import { registerUsers } from './users.ts';
import { registerImport } from './import.ts';
import { registerClv } from './clv.ts';
import { registerCustomers } from './customers.ts';
import { registerDataQuality } from './data-quality.ts';
import { registerKeys } from './keys.ts';
import { registerDemo } from './demo.ts';
import { registerMigrate } from './migrate.ts';
import { registerModel } from './model.ts';
import { registerPipeline } from './pipeline.ts';
import { registerPredictions } from './predictions.ts';
import { registerReport } from './report.ts';
import { registerSegments } from './segments.ts';
import { registerStart } from './start.ts';
import { registerStatus } from './status.ts';
import { registerWorker } from './worker.ts';

export const commands: ((program: Command) => void)[] = [
  registerMigrate,
  registerStart,
  registerStatus,
  registerImport,
  registerKeys,
  registerDemo,
  registerPrivacy,
  registerUsers,
  registerDataQuality,
  registerCustomers,
  registerPipeline,
  registerReport,
  registerSegments,
  registerWorker,
  registerClv,
  registerModel,
  registerPredictions,
];
