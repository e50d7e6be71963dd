import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PulseError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs, strict, with its errors turned into one clear line naming the flag. */
export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new PulseError('PULSE_ERR_USAGE', (error as Error).message.replace(/^.*?: /, ''));
  }
}

export function portFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new PulseError('PULSE_ERR_USAGE', `--port must be an integer 0–65535, got "${value}"`, {
      field: '--port',
    });
  }
  return Number(value);
}
