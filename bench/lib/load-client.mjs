/**
 * A worker thread that sends OTLP/HTTP protobuf requests to the sidecar as fast as it answers, from
 * `clients` keep-alive connections, for `seconds`, so that the client does not share the sidecar's
 * thread. Posts back the requests answered and their latencies. (Plain JavaScript: worker threads
 * do not go through tsx.)
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

const job = workerData;
const agent = new Agent({ connections: job.clients, pipelining: 1 });

async function send(i) {
  const res = await request(job.url, {
    method: 'POST',
    body: job.bodies[i % job.bodies.length],
    headers: { 'content-type': 'application/x-protobuf' },
    dispatcher: agent,
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`the sidecar answered ${res.statusCode}`);
}

for (let i = 0; i < job.warmup; i++) await send(i);
let requests = 0;
const latencies = [];
const end = performance.now() + job.seconds * 1000;
await Promise.all(
  Array.from({ length: job.clients }, async (_, c) => {
    for (let i = c; performance.now() < end; i += job.clients) {
      const t = performance.now();
      await send(i);
      latencies.push(performance.now() - t);
      requests++;
    }
  }),
);
await agent.close();
parentPort.postMessage({ requests, latencies });
