import { parentPort, workerData } from 'node:worker_threads';
import { createContractValidator } from '../contracts/index.js';
import { PulseError } from '../errors.js';
import { createTokeniser } from '../privacy/index.js';
import { parseEventsBody } from '../sources/index.js';
import { prepareItems } from './prepare.js';
import type { PrepareRequest, PrepareResponse } from './prepare-pool.js';

// Runs JSON parsing, contract validation and tokenisation off the thread that commits.
const validator = createContractValidator();
const tokeniser = createTokeniser((workerData as { tokenKey: string }).tokenKey);

parentPort?.on('message', (request: PrepareRequest) => {
  let response: PrepareResponse;
  try {
    const items =
      request.kind === 'body'
        ? parseEventsBody(request.mediaType, request.text, request.maxEvents)
        : request.items;
    response = { id: request.id, ok: true, batch: prepareItems(items, validator, tokeniser) };
  } catch (error) {
    response =
      error instanceof PulseError
        ? {
            id: request.id,
            ok: false,
            error: { code: error.code, message: error.message, field: error.field },
          }
        : {
            id: request.id,
            ok: false,
            error: { code: 'PULSE_ERR_INTERNAL', message: String(error), field: undefined },
          };
  }
  // The keys' buffer moves to the main thread rather than being copied.
  parentPort?.postMessage(response, response.ok ? [response.batch.keys.buffer as ArrayBuffer] : []);
});
