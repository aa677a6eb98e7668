// Worker thread for large demo loads: generates the batches it is asked for,
// in order, while the main thread streams earlier ones into the store. The CSV
// comes back as UTF-8 buffers, transferred rather than copied.
import { parentPort } from 'node:worker_threads';
import { type DemoParams, generateBatchBytes } from './generator.ts';

export interface BatchRequest {
  params: DemoParams;
  from: number;
  to: number;
}

parentPort?.on('message', (req: BatchRequest) => {
  const b = generateBatchBytes(req.params, req.from, req.to);
  const transfer = Object.values(b.chunks).flatMap((cs) => cs.map((c) => c.buffer as ArrayBuffer));
  parentPort!.postMessage(b, transfer);
});
