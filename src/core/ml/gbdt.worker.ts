// The second thread of gradient boosting: builds the histograms of a share of
// the features for the main thread, over buffers both threads share.
import { parentPort, workerData } from 'node:worker_threads';

interface Init {
  binned: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  og: SharedArrayBuffer;
  oh: SharedArrayBuffer;
  control: SharedArrayBuffer;
  n: number;
}

export interface HistTask {
  hist: SharedArrayBuffer;
  start: number;
  m: number;
  from: number;
  to: number;
}

const init = workerData as Init;
const binned = new Uint8Array(init.binned);
const rows = new Uint32Array(init.rows);
const og = new Float64Array(init.og);
const oh = new Float64Array(init.oh);
const control = new Int32Array(init.control);
const n = init.n;

parentPort!.on('message', (t: HistTask) => {
  const hist = new Float64Array(t.hist);
  for (let f = t.from; f < t.to; f++) {
    const col = f * n;
    const off = f * 512;
    for (let k = 0; k < t.m; k++) {
      const idx = off + binned[col + rows[t.start + k]!]! * 2;
      hist[idx]! += og[k]!;
      hist[idx + 1]! += oh[k]!;
    }
  }
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
});
