// The Redis floor probe: what processing a job costs Redis when the Lua
// touches no job one by one. Not chime's layout: jobs live in two shared
// hashes (spec, state), and the claim and completion scripts (floor/*.lua,
// each after floor/lib.lua) read and write a whole batch per command. It
// runs the throughput workload's processing (N queued no-op jobs,
// concurrency 100, claims of up to 64, completions batched while one is in
// flight, as chime's worker does) and prints jobs/s and Redis's CPU per
// processed job, the figures chime-bench's throughput prints, so a layout
// change can be judged before it is built.
//
//   cd bench/bullmq && npm install && node floor.mjs [N] [--one-lease]
//
// --one-lease: one lease per claim instead of per job (floor/*_one_lease.lua):
// the running index and the lease's expiry hold the claim, not each job,
// and the finished index is a list.
import IORedis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { redisCpuSeconds } from './throughput.mjs';

const N = Number(process.argv[2] ?? 100000), CONCURRENCY = 100, CLAIM = 64;
const ONE_LEASE = process.argv.includes('--one-lease');
const redis = new IORedis(process.env.CHIME_TEST_REDIS ?? 'redis://127.0.0.1:6379');
const P = `{floor-${randomUUID()}}:`;
const script = (file) => readFileSync(new URL(`floor/${file}.lua`, import.meta.url), 'utf8');
redis.defineCommand('enqueue', { numberOfKeys: 1, lua: script('enqueue') });
for (const s of ['claim', 'complete']) {
  redis.defineCommand(s, { numberOfKeys: 1, lua: script('lib') + script(ONE_LEASE ? `${s}_one_lease` : s) });
}
const runAt = String(Date.now() - 1000);
for (let i = 0; i < N; i += 1000) {
  const m = Math.min(1000, N - i), ready = [], specs = [], states = [];
  for (let j = 0; j < m; j++) {
    const id = randomUUID();
    // One score for all, as chime's ready set gives jobs of one priority due at one time.
    ready.push('4398265349682152', id);
    specs.push(id, JSON.stringify({ queue: 'bench', kind: 'chime.noop', run_at: runAt, created_at: String(Date.now()) }));
    states.push(id, 'p');
  }
  await redis.enqueue(P, m, ...ready, ...specs, ...states);
}

const cpu0 = await redisCpuSeconds(redis), t0 = performance.now();
const token = randomUUID();
let inflight = 0, done = 0, claiming = false, flushing = false, finished = [];
await new Promise((resolve) => {
  const flush = async () => {
    if (flushing || finished.length === 0) return;
    flushing = true;
    const batch = finished;
    finished = [];
    const applied = await redis.complete(P, batch.length, ...batch.flat());
    inflight -= batch.length;
    done += applied.filter((v) => v === 1).length;
    flushing = false;
    if (done >= N) return resolve();
    claim();
    flush();
  };
  const claim = async () => {
    if (claiming || inflight >= CONCURRENCY || done >= N) return;
    claiming = true;
    // With one lease per claim, each claim is its own lease.
    const lease = ONE_LEASE ? randomUUID() : token;
    const out = await redis.claim(P, Math.min(CLAIM, CONCURRENCY - inflight), lease, 30000);
    claiming = false;
    if (out.length === 0) {
      setTimeout(claim, 1);
      return;
    }
    const [started, expires] = out;
    inflight += (out.length - 2) / 3;
    for (let j = 2; j < out.length; j += 3) {
      const id = out[j], attempt = out[j + 1];
      JSON.parse(out[j + 2]);
      // The completion's three strings, as the variant's script reads them.
      const completion = ONE_LEASE ? [id, lease, attempt] : [id, `r|${token}|${expires}|${started}|${attempt}`, expires];
      // The no-op handler: its outcome joins the next completion batch.
      setImmediate(() => {
        finished.push(completion);
        flush();
      });
    }
    claim();
  };
  claim();
});
const secs = (performance.now() - t0) / 1000, used = (await redisCpuSeconds(redis)) - cpu0;
console.log(`floor${ONE_LEASE ? ' --one-lease' : ''}: jobs=${N} jobs_per_s=${(N / secs).toFixed(2)} redis_cpu_us_per_job=${((used * 1e6) / N).toFixed(2)} redis_busy=${(used / secs).toFixed(2)}`);
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${P}*`, 'COUNT', 1000);
  if (keys.length) await redis.del(...keys);
  cursor = next;
} while (cursor !== '0');
redis.disconnect();
