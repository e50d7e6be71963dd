/// <reference types="pdfkit" />
import { createRequire } from 'node:module';

type PDFKitConstructor = new (options?: PDFKit.PDFDocumentOptions) => PDFKit.PDFDocument;
// pdfkit is CommonJS with `export =` typings; require keeps the types without esModuleInterop.
const PDFDocument = createRequire(import.meta.url)('pdfkit') as PDFKitConstructor;
import { formatValue } from './notice.js';
import { kpiBandRule } from './rules.js';
import type { ScorecardData, ScorecardKpi } from './scorecard-data.js';
import type { BandStatus } from './status.js';

const PAGE = { width: 595.28, height: 841.89, margin: 40 };
const BLOCK_HEIGHT = 245;
const STATUS_TEXT: Record<BandStatus, string> = {
  ok: 'OK',
  warn: 'WARN',
  critical: 'CRITICAL',
  no_data: 'NO DATA',
};
// Colour is never the only signal: the status is also written out in words.
const STATUS_COLOUR: Record<BandStatus, string> = {
  ok: '#1a7f37',
  warn: '#9a6700',
  critical: '#cf222e',
  no_data: '#57606a',
};

/** Renders a region's scorecard as a PDF (A4, the six KPIs, three per page). */
export function renderScorecardPdf(data: ScorecardData, generatedAt: Date): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    info: {
      Title: `Pulse scorecard ${data.region} ${data.date}`,
      Author: 'Pulse',
      Subject: 'KPI scorecard',
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  header(doc, data, generatedAt);
  let y = 120;
  data.kpis.forEach((entry, i) => {
    if (i > 0 && i % 3 === 0) {
      doc.addPage();
      y = PAGE.margin;
    }
    block(doc, entry, data.region, y);
    y += BLOCK_HEIGHT;
  });
  doc.end();
  return done;
}

function header(doc: PDFKit.PDFDocument, data: ScorecardData, generatedAt: Date): void {
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .fillColor('#000')
    .text(`Pulse scorecard: ${data.region}, ${data.date}`, PAGE.margin, PAGE.margin);
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor('#333')
    .text(
      `Business day ${data.date} (${data.timeZone}): ${data.window.from} to ${data.window.to} UTC. ` +
        `Generated ${generatedAt.toISOString()} from the governed KPI catalogue; the same numbers the API serves.`,
      PAGE.margin,
      PAGE.margin + 30,
      { width: PAGE.width - 2 * PAGE.margin },
    );
}

function block(doc: PDFKit.PDFDocument, entry: ScorecardKpi, region: string, top: number): void {
  const left = PAGE.margin;
  const { kpi } = entry;
  doc
    .moveTo(left, top - 8)
    .lineTo(PAGE.width - PAGE.margin, top - 8)
    .lineWidth(0.5)
    .strokeColor('#d0d7de')
    .stroke();
  doc.font('Helvetica-Bold').fontSize(13).fillColor('#000').text(kpi.label, left, top);
  doc
    .font('Helvetica')
    .fontSize(8)
    .fillColor('#57606a')
    .text(
      entry.scope === 'region' ? `Region ${region}` : 'Company-wide (not broken down by country)',
      left,
      top + 16,
    );
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .fillColor('#000')
    .text(winAnsi(formatValue(entry.value, kpi.unit)), left, top + 30);
  const colour = STATUS_COLOUR[entry.status];
  doc.rect(left, top + 58, 10, 10).fill(colour);
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor(colour)
    .text(`Status: ${STATUS_TEXT[entry.status]}`, left + 16, top + 58);
  const band = kpiBandRule(kpi);
  const lines = [
    `Band: ${band.describe}`,
    `Same day last week: ${formatValue(entry.lastWeek, kpi.unit)}`,
    `Quality: ${entry.quality}`,
    `As of: ${entry.asOf ?? 'no data'}`,
    `Owner: ${kpi.owner}; definition v${kpi.definition_version}`,
  ];
  doc.font('Helvetica').fontSize(9).fillColor('#000');
  let y = top + 76;
  for (const line of lines) {
    doc.text(winAnsi(line), left, y, { width: 270 });
    y = doc.y + 2;
  }
  chart(doc, entry, PAGE.width - PAGE.margin - 230, top, 230, 140);
  doc
    .font('Helvetica')
    .fontSize(7.5)
    .fillColor('#333')
    .text(winAnsi(`Definition: ${kpi.description}`), left, top + 150, {
      width: PAGE.width - 2 * PAGE.margin,
      height: BLOCK_HEIGHT - 165,
      ellipsis: true,
    });
}

/** Seven days as bars, with the absolute bands as dashed lines. */
function chart(
  doc: PDFKit.PDFDocument,
  entry: ScorecardKpi,
  x: number,
  y: number,
  width: number,
  height: number,
): void {
  const values = entry.trend.map((p) => p.value ?? 0);
  const bands = entry.kpi.bands.basis === 'absolute' ? [entry.kpi.bands.warn, entry.kpi.bands.critical] : [];
  const max = Math.max(...values, ...bands, 0) || 1;
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const plotTop = y + 14;
  const plotHeight = height - 34;
  const yOf = (v: number): number => plotTop + plotHeight - ((v - min) / span) * plotHeight;
  doc.font('Helvetica').fontSize(7).fillColor('#57606a').text('Last 7 days', x, y, { width });
  doc.text(`axis ${formatAxis(min)} to ${formatAxis(max)}`, x, y, { width, align: 'right' });
  const slot = width / entry.trend.length;
  entry.trend.forEach((point, i) => {
    const bx = x + i * slot + slot * 0.15;
    const top = yOf(Math.max(point.value ?? 0, 0));
    const bottom = yOf(Math.min(point.value ?? 0, 0));
    doc
      .rect(bx, top, slot * 0.7, Math.max(bottom - top, 0.5))
      .fill(i === entry.trend.length - 1 ? '#0969da' : '#8cb4e6');
    doc
      .fillColor('#333')
      .fontSize(6)
      .text(point.date.slice(5), bx - 2, plotTop + plotHeight + 4, { width: slot, lineBreak: false });
  });
  for (const [i, band] of bands.entries()) {
    doc
      .moveTo(x, yOf(band))
      .lineTo(x + width, yOf(band))
      .dash(3, { space: 2 })
      .lineWidth(0.7)
      .strokeColor(i === 0 ? STATUS_COLOUR.warn : STATUS_COLOUR.critical)
      .stroke()
      .undash();
  }
  doc
    .moveTo(x, yOf(0))
    .lineTo(x + width, yOf(0))
    .lineWidth(0.5)
    .strokeColor('#57606a')
    .stroke();
}

function formatAxis(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
}

const REPLACEMENTS: Record<string, string> = {
  '\u2212': '-',
  '\u03a3': 'sum ',
  '\u2265': '>=',
  '\u2264': '<=',
  '\u2192': '->',
  '\u2248': '~',
};

/** The PDF's standard fonts speak WinAnsi: other characters are spelled out rather than lost. */
export function winAnsi(text: string): string {
  return [...text]
    .map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      if (code < 0x100 || '€…–—‘’“”•'.includes(ch)) return ch;
      return REPLACEMENTS[ch] ?? '?';
    })
    .join('');
}
