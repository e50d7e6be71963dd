import type { FileProgress } from './load-file.js';

/**
 * Shows a file's progress: a bar redrawn in place on a terminal, plain lines (every 10 %)
 * otherwise, so logs stay readable.
 */
export function progressPrinter(stream: NodeJS.WriteStream): {
  update: (progress: FileProgress) => void;
  end: () => void;
} {
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  const count = (p: FileProgress) =>
    p.unit === 'bytes'
      ? `${(p.done / 1048576).toFixed(1)}/${(p.total / 1048576).toFixed(1)} MB`
      : `${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')} events`;
  return {
    update(p) {
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastDraw < 100 && ratio < 1) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(ratio * width);
        stream.write(
          `\r${p.file} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${count(p)}`,
        );
        drawn = true;
        return;
      }
      const tenth = Math.floor(ratio * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${p.file}: ${Math.floor(ratio * 100)}% (${count(p)})\n`);
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
      lastTenth = -1;
    },
  };
}
