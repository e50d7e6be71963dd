import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartData {
  /** Bucket starts, epoch seconds. */
  readonly ts: readonly number[];
  readonly current: readonly (number | null)[];
  readonly lastWeek: readonly (number | null)[];
  readonly forecast: readonly (number | null)[];
  readonly lower: readonly (number | null)[];
  readonly upper: readonly (number | null)[];
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#000';
}

/** The time series, the same period last week (dashed) and the forecast with its band. */
export function SeriesChart({ data, label, theme }: { data: ChartData; label: string; theme: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 320),
      height: 280,
      series: [
        {},
        { label: 'This period', stroke: cssVar('--chart-current'), width: 2 },
        { label: 'Same period last week', stroke: cssVar('--chart-last-week'), width: 1.5, dash: [6, 4] },
        { label: 'Forecast', stroke: cssVar('--chart-forecast'), width: 2, dash: [2, 3] },
        { label: 'Forecast low (80 %)', stroke: cssVar('--chart-band'), width: 1 },
        { label: 'Forecast high (80 %)', stroke: cssVar('--chart-band'), width: 1 },
      ],
      bands: [{ series: [5, 4], fill: cssVar('--chart-band-fill') }],
      axes: [
        { stroke: cssVar('--fg'), grid: { stroke: cssVar('--grid') } },
        { stroke: cssVar('--fg'), grid: { stroke: cssVar('--grid') }, size: 70 },
      ],
      legend: { show: true },
    };
    const plot = new uPlot(
      options,
      [
        data.ts,
        data.current,
        data.lastWeek,
        data.forecast,
        data.lower,
        data.upper,
      ] as unknown as uPlot.AlignedData,
      element,
    );
    const resize = () => plot.setSize({ width: Math.max(element.clientWidth, 320), height: 280 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [data, theme]);
  // The canvas is an image to assistive technology; the table below it carries the numbers.
  return <div ref={box} role="img" aria-label={label} className="chart" />;
}
