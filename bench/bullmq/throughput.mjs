// BullMQ's throughput workload, shared by versus.mjs (timed) and
// instructions.mjs (counted under callgrind) so both measure one thing:
// N no-op jobs added in bulks of 1,000, then processed with `concurrency`.
import { Worker } from 'bullmq';

/// CPU seconds the Redis server has used so far (user and system).
export async function redisCpuSeconds(conn) {
  const info = await conn.info('cpu');
  const field = (k) => {
    const m = info.match(new RegExp(`^${k}:([\\d.]+)`, 'm'));
    if (!m) throw new Error(`no ${k} in INFO cpu`);
    return Number(m[1]);
  };
  return field('used_cpu_user') + field('used_cpu_sys');
}

/// Fills `queue` (named `name`), then processes it; returns jobs/s over
/// the processing alone, the enqueue's jobs/s, and Redis's CPU per
/// processed job (µs) and share of a core while processing.
/// `connection()` makes the worker's connection.
export async function bullThroughput(queue, name, n, concurrency, connection) {
  const tEnqueue = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'noop', data: {}, opts: { removeOnComplete: true } })));
  }
  const enqueueSecs = (performance.now() - tEnqueue) / 1000;
  const probe = connection();
  let done = 0;
  const cpuBefore = await redisCpuSeconds(probe);
  const t0 = performance.now();
  const worker = new Worker(name, async () => {}, { connection: connection(), concurrency });
  await new Promise((resolve) => worker.on('completed', () => { if (++done === n) resolve(); }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = (await redisCpuSeconds(probe)) - cpuBefore;
  await worker.close();
  await probe.quit();
  return { jobs_per_s: n / secs, enqueue_jobs_per_s: n / enqueueSecs, redis_cpu_us_per_job: (cpu * 1e6) / n, redis_busy: cpu / secs };
}
