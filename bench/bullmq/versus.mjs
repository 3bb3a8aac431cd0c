// chime vs BullMQ on the same Redis, same machine, in the same run.
//
//   cd bench/bullmq && npm install && node versus.mjs [--quick]
//
// For each workload it runs chime (target/release/chime-bench --backend
// redis, medians of --runs) and BullMQ (in this process, medians of as many
// runs), then prints both figures and the ratio. Redis: CHIME_TEST_REDIS or
// redis://127.0.0.1:6379.
import { Queue, Worker } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { bullThroughput } from './throughput.mjs';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
const redisUrl = process.env.CHIME_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const bench = new URL('../../target/release/chime-bench', import.meta.url).pathname;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))] : NaN;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const connection = () => new IORedis(redisUrl, { maxRetriesPerRequest: null });

/// Runs chime-bench and returns the figures of its "median of" line.
function chime(args) {
  const r = spawnSync(bench, ['--backend', 'redis', '--runs', String(RUNS), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chime-bench ${args.join(' ')} failed:\n${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('median of'));
  return Object.fromEntries(line.replace(/^median of \d+: /, '').split(' ').map((kv) => { const [k, v] = kv.split('='); return [k, Number(v)]; }));
}

async function withQueue(fn) {
  const name = `versus-${randomUUID()}`;
  const queue = new Queue(name, { connection: connection() });
  try { return await fn(queue, name); } finally { await queue.obliterate({ force: true }); await queue.close(); }
}

/// Enqueue N no-op jobs, then process them with `concurrency` (jobs/s).
const throughput = (n, concurrency) => withQueue((queue, name) => bullThroughput(queue, name, n, concurrency, connection));

/// N jobs due over `spread` seconds; lateness from due time to handler start.
async function bullDelayed(n, spread) {
  return withQueue(async (queue, name) => {
    const late = [];
    const worker = new Worker(name, async (job) => { late.push(Date.now() - job.data.due); }, { connection: connection(), concurrency: 100 });
    const start = Date.now() + 2000;
    const jobs = Array.from({ length: n }, (_, i) => { const due = start + Math.floor((i * spread * 1000) / n); return { name: 'd', data: { due }, opts: { delay: due - Date.now(), removeOnComplete: true } }; });
    for (let i = 0; i < n; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
    while (late.length < n && Date.now() < start + spread * 1000 + 30000) await sleep(50);
    await worker.close();
    late.sort((a, b) => a - b);
    return { p50_ms: pct(late, 0.5), p99_ms: pct(late, 0.99), max_ms: late.at(-1), missed: n - late.length };
  });
}

/// N job schedulers every second for `seconds`; lateness of each fire and
/// the fires missed or duplicated inside the window.
async function bullSchedules(n, seconds) {
  return withQueue(async (queue, name) => {
    const seen = new Map();
    const late = [];
    let warm = true;
    const worker = new Worker(name, async (job) => {
      const at = job.timestamp + (job.opts.delay ?? 0);
      if (!warm) late.push(Date.now() - at);
      const sec = Math.round(at / 1000);
      const key = `${job.opts.repeat?.jobId ?? job.repeatJobKey}:${sec}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }, { connection: connection(), concurrency: Math.min(1000, Math.max(200, n)) });
    for (let i = 0; i < n; i++) {
      await queue.upsertJobScheduler(`s${i}`, { every: 1000 }, { name: 'tick', data: {}, opts: { removeOnComplete: true } });
    }
    await sleep(2000);
    warm = false;
    const from = Math.ceil(Date.now() / 1000) + 1;
    await sleep(seconds * 1000);
    const to = Math.floor(Date.now() / 1000) - 2;
    await worker.close();
    for (let i = 0; i < n; i++) await queue.removeJobScheduler(`s${i}`);
    let missed = 0, duplicated = 0;
    const keys = [...seen.keys()];
    const ids = new Set(keys.map((k) => k.slice(0, k.lastIndexOf(':'))));
    for (const id of ids) {
      for (let s = from; s <= to; s++) {
        const c = seen.get(`${id}:${s}`) ?? 0;
        if (c === 0) missed++; else duplicated += c - 1;
      }
    }
    missed += (n - ids.size) * (to - from + 1);
    late.sort((a, b) => a - b);
    return { p50_ms: pct(late, 0.5), p99_ms: pct(late, 0.99), max_ms: late.at(-1), missed, duplicated };
  });
}

async function bull(fn) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await fn());
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}

const rows = [];
function report(workload, metric, c, b, better) {
  const ratio = better === 'higher' ? c / b : b / c;
  const advantage = better === 'none' ? '' : Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-';
  rows.push({ workload, metric, chime: c, bullmq: b, 'chime advantage': advantage });
}

const hzConn = connection();
const hz = (await hzConn.config('GET', 'hz'))[1];
await hzConn.quit();
const N = quick ? 20000 : 100000;

let c = chime(['throughput', '--jobs', String(N), '--concurrency', '100']);
let b = await bull(() => throughput(N, 100));
// Processing is timed apart from the enqueue before it, for both.
report(`process ${N} queued no-op jobs, concurrency 100`, 'jobs/s', c.jobs_per_s, b.jobs_per_s, 'higher');
// Redis's CPU while processing: Redis's thread is what both wait on, and
// its seconds per job move less with a busy machine than jobs/s do.
report(`process ${N} queued no-op jobs, concurrency 100`, 'Redis CPU µs/job', c.redis_cpu_us_per_job, b.redis_cpu_us_per_job, 'lower');
report(`process ${N} queued no-op jobs, concurrency 100`, 'Redis busy (cores)', c.redis_busy, b.redis_busy, 'none');
report(`enqueue ${N} jobs in batches of 1,000`, 'jobs/s', c.enqueue_jobs_per_s, b.enqueue_jobs_per_s, 'higher');

c = chime(['delayed', '--jobs', '10000', '--spread', '10']);
b = await bull(() => bullDelayed(10000, 10));
for (const m of ['p50_ms', 'p99_ms']) report('10,000 delayed jobs due over 10 s', `lateness ${m}`, c[m], b[m], 'lower');

for (const n of quick ? [1000] : [1000, 10000]) {
  c = chime(['lateness', '--schedules', String(n), '--seconds', '20']);
  b = await bull(() => bullSchedules(n, 20));
  for (const m of ['p50_ms', 'p99_ms']) report(`${n} every-second schedules`, `lateness ${m}`, c[m], b[m], 'lower');
  rows.push({ workload: `${n} every-second schedules`, metric: 'missed / duplicated', chime: `${c.missed} / ${c.duplicated}`, bullmq: `${b.missed} / ${b.duplicated}`, 'chime advantage': '' });
}

console.log(`Redis ${redisUrl}, hz ${hz}; medians of ${RUNS} run(s) each`);
console.table(rows.map((r) => ({ ...r, chime: typeof r.chime === 'number' ? Number(r.chime.toFixed(2)) : r.chime, bullmq: typeof r.bullmq === 'number' ? Number(r.bullmq.toFixed(2)) : r.bullmq })));
// The connections handed to BullMQ stay open (it closes only those it made
// itself), and would keep the process waiting after the table.
process.exit(0);
