import type { FastifyPluginAsync } from 'fastify';
import { PulseError } from '../errors.js';
import { parseRole, type KeyRing, type Role, type StoredKey } from '../security/index.js';

export interface KeyAdmin {
  readonly ring: KeyRing;
  /** Stores a new key and returns it in full: the only time its secret is seen. */
  create(name: string, roles: readonly Role[], expiresAt: Date | null): Promise<string>;
  revoke(id: string): Promise<boolean>;
}

const publicView = (key: StoredKey) => ({
  id: key.id,
  name: key.name,
  roles: key.roles,
  expires_at: key.expiresAt?.toISOString() ?? null,
  revoked: key.revoked,
});

/** Admin routes to create, list and revoke API keys (secrets are never listed). */
export const keyRoutes: FastifyPluginAsync<{ admin: KeyAdmin }> = async (app, { admin }) => {
  app.get('/v1/keys', { schema: { summary: 'API keys (admin)', tags: ['admin'] } }, async () => ({
    keys: admin.ring.list().map(publicView),
  }));
  app.post(
    '/v1/keys',
    {
      schema: {
        summary: 'Create an API key (admin); the answer is the only time the key is shown',
        tags: ['admin'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'roles'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            roles: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', maxLength: 80 } },
            expires_at: { type: 'string', maxLength: 40 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; roles: string[]; expires_at?: string };
      let roles: Role[];
      try {
        roles = body.roles.map(parseRole);
      } catch (error) {
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', (error as Error).message, { field: 'roles' });
      }
      const expiresAt = body.expires_at === undefined ? null : new Date(body.expires_at);
      if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
        throw new PulseError(
          'PULSE_ERR_INVALID_PARAMETER',
          'expires_at must be a future RFC 3339 timestamp',
          { field: 'expires_at' },
        );
      }
      const key = await admin.create(body.name, roles, expiresAt);
      return reply.code(201).send({
        key,
        id: key.split('_')[1],
        name: body.name,
        roles,
        expires_at: expiresAt?.toISOString() ?? null,
      });
    },
  );
  app.delete(
    '/v1/keys/:id',
    { schema: { summary: 'Revoke an API key (admin)', tags: ['admin'] } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await admin.revoke(id)))
        throw new PulseError('PULSE_ERR_NOT_FOUND', `No active key "${id}"`, { field: 'id' });
      return reply.code(204).send();
    },
  );
};
