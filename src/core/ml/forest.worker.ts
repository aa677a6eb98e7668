// A thread scoring a slice of rows for forestMarginParallel (forest.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { type Forest, forestMargin } from './forest.ts';

const { forest, data, rows } = workerData as { forest: Forest; data: Float64Array; rows: number };
const out = new Float64Array(rows);
forestMargin(forest, data, rows, out);
parentPort!.postMessage(out, [out.buffer]);
