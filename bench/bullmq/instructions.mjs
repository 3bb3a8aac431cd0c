// BullMQ's side of bench/redis-instructions: the throughput workload
// (throughput.mjs, as versus.mjs runs it) against the Redis that script
// starts under callgrind.
//
//   bench/redis-instructions bullmq --jobs 2000 --concurrency 100
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { bullThroughput } from './throughput.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const n = arg('--jobs', 2000);
const concurrency = arg('--concurrency', 100);
const url = process.env.CHIME_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const connection = () => new IORedis(url, { maxRetriesPerRequest: null });

const queue = new Queue('instructions', { connection: connection() });
const { jobs_per_s } = await bullThroughput(queue, 'instructions', n, concurrency, connection);
console.log(`bullmq: jobs=${n} jobs_per_s=${jobs_per_s.toFixed(2)}`);
await queue.close();
process.exit(0);
