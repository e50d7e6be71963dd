/**
 * The freshness benchmarks' background events: serialised before a run, then generated live past
 * them. What is posted must be the simulator's own stream, in order, each event once, whichever
 * way a line was made; the live ones are counted. Checked against a second simulator of the same
 * seed and start, serialised by hand.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { TrafficSimulator } from '../../src/generator/index.js';
import { liveLines, preparedLines } from '../../bench/background-load.js';

const START = new Date('2026-11-30T12:00:00Z');
const OPTIONS = { seed: 5, ordersPerDay: 60_000 };

function expectedLines(count: number): string[] {
  const simulator = new TrafficSimulator(START, OPTIONS);
  return Array.from({ length: count }, () => JSON.stringify(simulator.nextEvent()));
}

test('prepared lines are the stream in order, then the simulator goes on live and counts it', () => {
  const expected = expectedLines(250);
  const lines = preparedLines(new TrafficSimulator(START, OPTIONS), 200);
  assert.equal(lines.generatedLive, 0);
  const posted = Array.from({ length: 250 }, () => lines.nextLine());
  assert.deepEqual(posted, expected);
  assert.equal(lines.generatedLive, 50);
});

test('live lines are the same stream, every one counted as live', () => {
  const expected = expectedLines(40);
  const lines = liveLines(new TrafficSimulator(START, OPTIONS));
  const posted = Array.from({ length: 40 }, () => lines.nextLine());
  assert.deepEqual(posted, expected);
  assert.equal(lines.generatedLive, 40);
});

test('no prepared lines: everything is live', () => {
  const expected = expectedLines(10);
  const lines = preparedLines(new TrafficSimulator(START, OPTIONS), 0);
  assert.deepEqual(
    Array.from({ length: 10 }, () => lines.nextLine()),
    expected,
  );
  assert.equal(lines.generatedLive, 10);
});
