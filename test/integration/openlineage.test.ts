import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { RunObserver } from '../../src/models/index.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

/** The official OpenLineage 2-0-2 schemas and the facets Pulse emits (copied under test/fixtures). */
const SCHEMAS = fileURLToPath(new URL('../fixtures/openlineage/', import.meta.url));
type Json = Record<string, unknown>;

function openLineageValidator() {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const files = [
    join(SCHEMAS, 'OpenLineage.json'),
    ...readdirSync(join(SCHEMAS, 'facets')).map((name) => join(SCHEMAS, 'facets', name)),
  ];
  const facetSchemas: { ids: string[]; validate: ValidateFunction }[] = [];
  for (const file of files) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')) as Json);
  for (const file of files.slice(1)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id: string; properties: Json };
    facetSchemas.push({
      ids: Object.keys(schema.properties),
      validate: ajv.getSchema(schema.$id) as ValidateFunction,
    });
  }
  const runEvent = ajv.getSchema(
    'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  ) as ValidateFunction;
  /** Every error of the event and of each facet it carries, against the facet's own schema. */
  return (event: Json): string[] => {
    const errors: string[] = [];
    if (!runEvent(event))
      errors.push(...(runEvent.errors ?? []).map((e) => `event${e.instancePath} ${e.message}`));
    const facetGroups: [string, Json | undefined][] = [
      ['run.facets', (event.run as Json | undefined)?.facets as Json | undefined],
      ['job.facets', (event.job as Json | undefined)?.facets as Json | undefined],
      ...((event.outputs as Json[] | undefined) ?? []).flatMap((output, i): [string, Json | undefined][] => [
        [`outputs[${i}].facets`, output.facets as Json | undefined],
        [`outputs[${i}].outputFacets`, output.outputFacets as Json | undefined],
      ]),
    ];
    for (const [where, facets] of facetGroups) {
      for (const name of Object.keys(facets ?? {})) {
        const schema = facetSchemas.find((candidate) => candidate.ids.includes(name));
        if (!schema) {
          errors.push(`${where}.${name}: no schema to check it against`);
          continue;
        }
        if (!schema.validate({ [name]: (facets as Json)[name] })) {
          errors.push(...(schema.validate.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message}`));
        }
      }
    }
    return errors;
  };
}

describe('OpenLineage events of model runs', () => {
  const validate = openLineageValidator();
  const received: Json[] = [];
  let requests = 0;
  let server: Server;
  let pulse: TestPulse;
  let file: string;
  let dir: string;

  before(async () => {
    // A real endpoint that fails the first POST: the emitter must retry it.
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests += 1;
        if (requests === 1) {
          response.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body) as Json);
        response.writeHead(201).end();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'pulse-openlineage-'));
    file = join(dir, 'openlineage.ndjson');
    pulse = await startTestPulse({
      dir,
      retryBackoffMs: [],
      openLineage: { file, url: `http://127.0.0.1:${port}/api/v1/lineage`, retryBackoffMs: [20, 20] },
    });
  });
  after(async () => {
    await pulse?.dispose();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const readEvents = (): Json[] =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Json);

  it('emits START and COMPLETE for each model run, valid against the official schemas', async () => {
    await pulse.deliver(
      [orderEvent(), orderEvent()].map((value) => ({ kind: 'value', value })),
      { sourceKind: 'test' },
    );
    const result = await pulse.refresh();
    assert.ok(result);
    await pulse.openLineage?.flush();
    const events = readEvents().filter(
      (event) =>
        ((event.run as Json).facets as Json & { parent: { run: { runId: string } } }).parent.run.runId ===
        result.runId,
    );
    const ran = result.models.filter((model) => model.mode !== 'skipped').map((model) => model.model);
    assert.ok(ran.includes('silver_orders') && ran.includes('fact_order'));
    assert.equal(events.length, ran.length * 2, 'one START and one COMPLETE per model that ran');
    for (const event of events)
      assert.deepEqual(
        validate(event),
        [],
        `${String(event.eventType)} ${JSON.stringify((event.job as Json).name)}`,
      );
    for (const model of ran) {
      const mine = events.filter((event) => (event.outputs as Json[])[0]?.name === `main.${model}`);
      assert.deepEqual(
        mine.map((event) => event.eventType),
        ['START', 'COMPLETE'],
        model,
      );
      assert.equal(
        (mine[0]?.run as Json).runId,
        (mine[1]?.run as Json).runId,
        'START and COMPLETE share the run id',
      );
    }
    // Rows written, in the COMPLETE event of silver_orders: the two orders posted.
    const complete = events.find(
      (event) =>
        event.eventType === 'COMPLETE' && (event.outputs as Json[])[0]?.name === 'main.silver_orders',
    );
    const statistics = ((complete?.outputs as Json[])[0]?.outputFacets as Json).outputStatistics as Json;
    assert.equal(statistics.rowCount, 2);
    // Column lineage: silver_order_lines.net is computed from the payload's quantity, unit price, discount and tax.
    const lines = events.find((event) => (event.outputs as Json[])[0]?.name === 'main.silver_order_lines');
    const net = ((((lines?.outputs as Json[])[0]?.facets as Json).columnLineage as Json).fields as Json)
      .net as { inputFields: { name: string; field: string }[] };
    assert.deepEqual(
      net.inputFields.map((input) => `${input.name}:${input.field}`).sort(),
      ['data.lines[].discount', 'data.lines[].quantity', 'data.lines[].tax', 'data.lines[].unit_price'].map(
        (field) => `main.bronze_events:${field}`,
      ),
    );
  });

  it('POSTs the same events to the endpoint, retrying the one that failed', async () => {
    await pulse.openLineage?.flush();
    const written = readEvents();
    assert.ok(requests > written.length, 'the failed POST was retried');
    assert.deepEqual(
      received.map((event) => `${String(event.eventType)} ${String((event.run as Json).runId)}`).sort(),
      written.map((event) => `${String(event.eventType)} ${String((event.run as Json).runId)}`).sort(),
    );
  });

  it('emits FAIL for every model of a run that rolls back, with its error', async () => {
    const emitter = pulse.runner.observer as RunObserver;
    pulse.runner.observer = {
      modelStarted: (run, model) => {
        emitter.modelStarted(run, model);
        if (model.name === 'fact_order') throw new Error('injected failure in fact_order');
      },
      modelFinished: (run, model, result) => emitter.modelFinished(run, model, result),
      runCommitted: (run, result) => emitter.runCommitted(run, result),
      runFailed: (run, error) => emitter.runFailed(run, error),
    };
    try {
      await pulse.deliver([{ kind: 'value', value: orderEvent() }], { sourceKind: 'test' });
      await assert.rejects(pulse.refresh(), /injected failure/);
    } finally {
      pulse.runner.observer = emitter;
    }
    await pulse.openLineage?.flush();
    const [failed] = await pulse.sql(`SELECT run_id FROM pulse_runs WHERE status = 'failed'`);
    const events = readEvents().filter(
      (event) =>
        ((event.run as Json).facets as Json & { parent: { run: { runId: string } } }).parent.run.runId ===
        failed?.run_id,
    );
    const fails = events.filter((event) => event.eventType === 'FAIL');
    assert.ok(fails.length >= 2, 'the models before fact_order rolled back too');
    assert.equal(events.filter((event) => event.eventType === 'COMPLETE').length, 0);
    assert.equal(fails.length, events.filter((event) => event.eventType === 'START').length);
    for (const event of events) assert.deepEqual(validate(event), []);
    const message = (((fails[0]?.run as Json).facets as Json).errorMessage as Json).message;
    assert.match(String(message), /injected failure in fact_order/);
  });

  it('rejects broken events, so the checks above prove something', () => {
    const [good] = readEvents();
    assert.ok(good);
    assert.deepEqual(validate(good), []);
    const noNamespace = structuredClone(good);
    delete (noNamespace.job as Json).namespace;
    assert.notDeepEqual(validate(noNamespace), []);
    const badRunId = structuredClone(good);
    (badRunId.run as Json).runId = 'not-a-uuid';
    assert.notDeepEqual(validate(badRunId), []);
    const badFacet = structuredClone(good);
    delete (((badFacet.outputs as Json[])[0]?.facets as Json).schema as Json)._producer;
    assert.notDeepEqual(validate(badFacet), []);
    const badLineage = structuredClone(good);
    ((((badLineage.outputs as Json[])[0]?.facets as Json).columnLineage as Json).fields as Json).extra = {
      inputFields: [{ name: 'x' }],
    };
    assert.notDeepEqual(validate(badLineage), []);
  });

  it('never blocks or fails a run when the endpoint is unreachable', async () => {
    const unreachable = await startTestPulse({
      retryBackoffMs: [],
      openLineage: { url: 'http://127.0.0.1:9/api/v1/lineage', retryBackoffMs: [10] },
    });
    try {
      await unreachable.deliver([{ kind: 'value', value: orderEvent() }], { sourceKind: 'test' });
      const result = await unreachable.refresh();
      assert.equal(result?.status, 'success');
      const [orders] = await unreachable.sql(`SELECT count(*)::INTEGER AS n FROM silver_orders`);
      assert.equal(orders?.n, 1);
      await unreachable.openLineage?.flush();
      const metrics = await (await unreachable.fetch(`${unreachable.url}/metrics`)).text();
      const failures = /pulse_openlineage_failures_total\{transport="http"\} (\d+)/.exec(metrics);
      assert.ok(failures && Number(failures[1]) > 0, 'undelivered events are counted');
    } finally {
      await unreachable.dispose();
    }
  });
});
