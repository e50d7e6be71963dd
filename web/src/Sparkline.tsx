/** A small line of today's buckets; decorative beside the figures a screen reader gets in text. */
export function Sparkline({ values }: { values: readonly (number | null)[] }) {
  const points = values
    .map((v, i) => [i, v] as const)
    .filter((p): p is readonly [number, number] => p[1] !== null);
  if (points.length < 2) return <svg className="sparkline" aria-hidden="true" viewBox="0 0 100 30" />;
  const ys = points.map((p) => p[1]);
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const span = max - min || 1;
  const last = Math.max(values.length - 1, 1);
  const path = points
    .map(
      ([i, v], n) =>
        `${n === 0 ? 'M' : 'L'}${((i / last) * 100).toFixed(2)},${(28 - ((v - min) / span) * 26).toFixed(2)}`,
    )
    .join(' ');
  return (
    <svg className="sparkline" aria-hidden="true" viewBox="0 0 100 30" preserveAspectRatio="none">
      <path d={path} fill="none" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
