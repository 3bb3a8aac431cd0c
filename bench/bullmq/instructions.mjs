// BullMQ's side of bench/redis-instructions: the throughput workload
// (enqueue N no-op jobs in bulks of 1,000, then process them with
// `concurrency`) against the Redis that script starts under callgrind.
//
//   bench/redis-instructions bullmq --jobs 2000 --concurrency 100
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const n = arg('--jobs', 2000);
const concurrency = arg('--concurrency', 100);
const url = process.env.CHIME_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const connection = () => new IORedis(url, { maxRetriesPerRequest: null });

const queue = new Queue('instructions', { connection: connection() });
for (let i = 0; i < n; i += 1000) {
  await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'noop', data: {}, opts: { removeOnComplete: true } })));
}
let done = 0;
const t0 = performance.now();
const worker = new Worker('instructions', async () => {}, { connection: connection(), concurrency });
await new Promise((resolve) => worker.on('completed', () => { if (++done === n) resolve(); }));
console.log(`bullmq: jobs=${n} seconds=${((performance.now() - t0) / 1000).toFixed(2)}`);
await worker.close();
await queue.close();
process.exit(0);
