import { createReadStream } from 'node:fs';
import { PulseError } from '../../errors.js';

/**
 * The lines of a text file, read in chunks: memory stays bounded by `maxLineBytes` however big the
 * file is. A longer line fails the read with PULSE_ERR_FILE_LINE_TOO_LONG; `onBytes` reports progress.
 */
export async function* readLines(
  path: string,
  maxLineBytes: number,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ line: string; lineNo: number }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  let read = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    read += chunk.length;
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      if (pendingBytes + piece.length > maxLineBytes) throw tooLong(lineNo + 1, maxLineBytes);
      const text = Buffer.concat([...pending, piece]).toString('utf8');
      pending = [];
      pendingBytes = 0;
      lineNo += 1;
      yield { line: text.endsWith('\r') ? text.slice(0, -1) : text, lineNo };
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (pendingBytes + rest.length > maxLineBytes) throw tooLong(lineNo + 1, maxLineBytes);
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
    onBytes?.(read);
  }
  if (pendingBytes > 0) yield { line: Buffer.concat(pending).toString('utf8'), lineNo: lineNo + 1 };
}

function tooLong(lineNo: number, max: number): PulseError {
  return new PulseError('PULSE_ERR_FILE_LINE_TOO_LONG', `line ${lineNo} is longer than ${max} bytes`, {
    field: `line ${lineNo}`,
  });
}
