import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { lowerBackgroundThreads } from '../../src/serve/thread-priority.js';

/** Each thread's nice value as the kernel reports it: field 19 of its stat, counted after the name. */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      nice.set(Number(tid), Number(fields[16]));
    } catch {
      // Ended while listed.
    }
  }
  return nice;
}

/** An idle thread of this process that lives until terminated. */
function idleWorker(): Worker {
  return new Worker('setInterval(() => {}, 1000)', { eval: true });
}

// node --test runs each file in a process of its own: the nice values set here end with it.
describe('lowerBackgroundThreads', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const workers: Worker[] = [];
  after(async () => {
    await Promise.all(workers.map((worker) => worker.terminate()));
  });

  it('lowers every thread but the event loop, and the threads started after it', async () => {
    workers.push(idleWorker());
    await sleep(100);
    // Relative to the event loop's own value, which a harness may have set.
    const main = niceByThread().get(process.pid) as number;
    const expected = Math.min(19, main + 7);
    const priority = lowerBackgroundThreads(7, { sweepMs: 20 });
    try {
      const lowered = niceByThread();
      assert.equal(lowered.get(process.pid), main, 'the event loop keeps its priority');
      assert.ok(lowered.size >= 3, `a worker and V8's threads exist, got ${lowered.size} threads`);
      for (const [tid, nice] of lowered)
        if (tid !== process.pid) assert.equal(nice, expected, `thread ${tid}`);
      assert.equal(priority.lowered(), [...lowered.keys()].filter((tid) => tid !== process.pid).length);

      const known = new Set(lowered.keys());
      workers.push(idleWorker());
      await sleep(200);
      const later = niceByThread();
      const added = [...later.keys()].filter((tid) => !known.has(tid));
      assert.ok(added.length >= 1, 'the new worker added a thread');
      for (const tid of added) assert.equal(later.get(tid), expected, `new thread ${tid}`);
      assert.equal(later.get(process.pid), main);
    } finally {
      priority.stop();
    }
  });

  it('refuses a value outside 1–19 and leaves the threads alone where /proc is missing', () => {
    assert.throws(() => lowerBackgroundThreads(0), /nice must be 1–19, got 0/);
    assert.throws(() => lowerBackgroundThreads(20), /nice must be 1–19, got 20/);
    const none = lowerBackgroundThreads(5, { taskDir: '/nonexistent/task' });
    assert.equal(none.lowered(), 0);
    none.stop();
  });
});
