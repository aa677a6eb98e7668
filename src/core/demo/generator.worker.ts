// Worker thread for large demo loads: generates the batches it is asked for,
// in order, while the main thread streams earlier ones into the store.
import { parentPort } from 'node:worker_threads';
import { type DemoParams, generateBatch } from './generator.ts';

export interface BatchRequest {
  params: DemoParams;
  from: number;
  to: number;
}

parentPort?.on('message', (req: BatchRequest) => {
  parentPort!.postMessage(generateBatch(req.params, req.from, req.to));
});
