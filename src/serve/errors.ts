import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PulseError, type ErrorCode } from '../errors.js';

/** Fastify's own errors, mapped onto the catalogue so clients see one set of codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PULSE_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PULSE_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PULSE_ERR_EMPTY_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PULSE_ERR_MALFORMED_BODY',
  FST_ERR_CTP_EMPTY_TYPE: 'PULSE_ERR_UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Every error leaves as `{ error: { code, message, field? } }`. Unknown errors are logged with their
 * stack and answered with a bare 500: no stack trace or SQL ever reaches a client.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PulseError) {
    if (error.code === 'PULSE_ERR_OVERLOADED') void reply.header('retry-after', '1');
    else if (error.code === 'PULSE_ERR_STREAM_UNAVAILABLE') void reply.header('retry-after', '2');
    else if (error.code === 'PULSE_ERR_PRIVACY_BUDGET_EXHAUSTED') {
      const seconds = (error.details as { retry_after_s?: number } | undefined)?.retry_after_s;
      if (seconds !== undefined) void reply.header('retry-after', String(seconds));
    } else if (error.code === 'PULSE_ERR_UNAVAILABLE') {
      void reply.header('retry-after', '5');
      request.log.error({ err: error }, error.message);
    } else if (error.status >= 500) request.log.error({ err: error }, error.message);
    void reply.code(error.status).send(error.toJSON());
    return;
  }
  const fastifyError = error as FastifyError;
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) {
    const message =
      mapped === 'PULSE_ERR_UNSUPPORTED_MEDIA_TYPE'
        ? `Unsupported content type "${request.headers['content-type'] ?? ''}"`
        : fastifyError.message;
    const pulse = new PulseError(mapped, message, {
      field: mapped === 'PULSE_ERR_UNSUPPORTED_MEDIA_TYPE' ? 'content-type' : '(body)',
    });
    void reply.code(pulse.status).send(pulse.toJSON());
    return;
  }
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const path = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
    const named = first?.params?.missingProperty ?? first?.params?.additionalProperty;
    const field =
      named === undefined ? path || '(request)' : path ? `${path}.${String(named)}` : String(named);
    const pulse = new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      first?.keyword === 'additionalProperties'
        ? `${field} is not a known parameter`
        : `${field} ${first?.message ?? 'is invalid'}`,
      { field },
    );
    void reply.code(400).send(pulse.toJSON());
    return;
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const pulse = new PulseError('PULSE_ERR_MALFORMED_BODY', fastifyError.message);
    void reply.code(fastifyError.statusCode).send(pulse.toJSON());
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.code(500).send(new PulseError('PULSE_ERR_INTERNAL').toJSON());
}
