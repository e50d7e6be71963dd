import { openChannel, Dispatcher, Scorecards, isCalendarDate, localDate } from '../../alerts/index.js';
import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import { parseFlags } from '../args.js';

export const SCORECARD_USAGE = `pulse scorecard --region CC [--region CC…] [--date YYYY-MM-DD] [--email] [--db FILE] [--config FILE]
  Renders the PDF scorecard of each region for a business day (default yesterday) into scorecards.dir;
  --email also sends them through the configured scorecards.email channel.`;

export async function runScorecard(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    region: { type: 'string', multiple: true },
    date: { type: 'string' },
    email: { type: 'boolean', default: false },
    db: { type: 'string' },
    config: { type: 'string' },
  });
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const regions = values.region ?? config.scorecards.regions;
  if (regions.length === 0)
    throw new PulseError('PULSE_ERR_USAGE', '--region is required (or scorecards.regions in the config)', {
      field: '--region',
    });
  for (const region of regions)
    if (!/^[A-Z]{2}$/.test(region))
      throw new PulseError(
        'PULSE_ERR_USAGE',
        `--region must be an ISO 3166-1 alpha-2 code such as FR, got "${region}"`,
        {
          field: '--region',
        },
      );
  if (values.date !== undefined && !isCalendarDate(values.date))
    throw new PulseError(
      'PULSE_ERR_USAGE',
      `--date must be a calendar date YYYY-MM-DD, got "${values.date}"`,
      {
        field: '--date',
      },
    );
  const date = values.date ?? localDate(new Date(Date.now() - 24 * 3_600_000), config.business.timeZone);
  if (values.email && !config.scorecards.email)
    throw new PulseError('PULSE_ERR_USAGE', '--email needs scorecards.email in the config', {
      field: '--email',
    });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
  });
  const dispatcher = new Dispatcher(
    config.alerts.channels.map(openChannel),
    config.alerts.delivery,
    (record) => {
      if (record.outcome === 'failed' || record.outcome === 'dropped')
        process.stderr.write(`pulse scorecard: ${record.channel}: ${record.error ?? record.outcome}\n`);
    },
  );
  try {
    // The scorecard reads gold: bring it up to date with everything committed first.
    await pipeline.runner.run();
    const scorecards = new Scorecards({
      config: { ...config.scorecards, regions },
      engine: pipeline.engine,
      catalogue: pipeline.engine.catalogue,
      timeZone: config.business.timeZone,
      dispatcher,
      onError: (error) => process.stderr.write(`pulse scorecard: ${String(error)}\n`),
    });
    const rendered = values.email
      ? await scorecards.distribute(date)
      : await Promise.all(regions.map((region) => scorecards.render(region, date)));
    for (const r of rendered)
      process.stdout.write(
        `${r.region} ${r.date} ${r.path} (${r.bytes} bytes, ${r.renderMs.toFixed(0)} ms)\n`,
      );
    await dispatcher.idle();
    return 0;
  } finally {
    await dispatcher.close();
    await pipeline.close();
  }
}
