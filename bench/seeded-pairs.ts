/**
 * Runs `once` on a copy of the seed warehouse and on an empty one, `runs` times, alternating which
 * goes first so that a slow spell of the machine falls on both; `report` hears each pair.
 */
export async function seededPairs<T>(
  runs: number,
  seed: string,
  once: (seed: string | undefined) => Promise<T>,
  report: (i: number, withHistory: T, empty: T) => void,
): Promise<{ seeded: T[]; empty: T[] }> {
  const seeded: T[] = [];
  const empty: T[] = [];
  for (let i = 1; i <= runs; i++) {
    const seedFirst = i % 2 === 1;
    const first = await once(seedFirst ? seed : undefined);
    const second = await once(seedFirst ? undefined : seed);
    const [withHistory, without] = seedFirst ? [first, second] : [second, first];
    seeded.push(withHistory);
    empty.push(without);
    report(i, withHistory, without);
  }
  return { seeded, empty };
}
