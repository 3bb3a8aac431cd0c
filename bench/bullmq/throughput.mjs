// BullMQ's throughput workload, shared by versus.mjs (timed) and
// instructions.mjs (counted under callgrind) so both measure one thing:
// N no-op jobs added in bulks of 1,000, then processed with `concurrency`.
import { Worker } from 'bullmq';

/// Fills `queue` (named `name`), then processes it; returns jobs/s over
/// the processing alone. `connection()` makes the worker's connection.
export async function bullThroughput(queue, name, n, concurrency, connection) {
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'noop', data: {}, opts: { removeOnComplete: true } })));
  }
  let done = 0;
  const t0 = performance.now();
  const worker = new Worker(name, async () => {}, { connection: connection(), concurrency });
  await new Promise((resolve) => worker.on('completed', () => { if (++done === n) resolve(); }));
  const secs = (performance.now() - t0) / 1000;
  await worker.close();
  return { jobs_per_s: n / secs };
}
