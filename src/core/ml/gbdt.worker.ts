// The second thread of gradient boosting: builds the histograms of a share of
// the features for the main thread, over buffers both threads share. It stays
// in one loop for the whole fit and takes tasks from a slot in shared memory
// (see startHelper in gbdt.ts): waking it with Atomics costs microseconds,
// a message per histogram cost far more.
import { workerData } from 'node:worker_threads';
import { addHistograms } from './tree.ts';

interface Init {
  binned: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  gh: SharedArrayBuffer;
  out: SharedArrayBuffer;
  owner: SharedArrayBuffer;
  control: SharedArrayBuffer;
  n: number;
  d: number;
}

/** Slots of the control array. */
/** the newest task's id (the worker waits on it) */
export const TASK = 0;
/** the id of the last task the worker finished */
export const DONE = 1;
export const START = 2;
export const COUNT = 3;
/** the next group of features to take (both threads add 1) */
export const NEXT = 4;
/** the open task's id; the worker claims it by negating it, the main thread closes it with 0 */
export const CLAIM = 5;
export const STOP = 6;
export const CONTROL_SLOTS = 8;
/** features per group taken at a time */
export const GROUP = 4;

if (workerData && (workerData as { kind?: string }).kind === 'gbdt-histograms') {
  const init = workerData as Init;
  const binned = new Uint8Array(init.binned);
  const rows = new Uint32Array(init.rows);
  const gh = new Float64Array(init.gh);
  const out = new Float64Array(init.out);
  const owner = new Uint8Array(init.owner);
  const control = new Int32Array(init.control);
  const d = init.d;
  const groups = Math.ceil(d / GROUP);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, TASK, seen);
    const task = Atomics.load(control, TASK);
    if (task === seen) continue;
    seen = task;
    if (control[STOP]) break;
    // the main thread may have finished every group (and closed the task) before this thread woke
    if (Atomics.compareExchange(control, CLAIM, task, -task) !== task) continue;
    const start = control[START]!;
    const m = control[COUNT]!;
    for (let g = Atomics.add(control, NEXT, 1); g < groups; g = Atomics.add(control, NEXT, 1)) {
      const from = g * GROUP;
      const to = Math.min(d, from + GROUP);
      out.fill(0, from << 9, to << 9);
      addHistograms(binned, init.n, rows, start, m, gh, out, from, to);
      owner[g] = 1;
    }
    Atomics.store(control, DONE, task);
    Atomics.notify(control, DONE);
  }
}
