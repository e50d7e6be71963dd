import { PulseError } from '../../errors.js';
import { generateKey, parseRole, type Role } from '../../security/index.js';
import { insertApiKey, loadApiKeys, openWarehouse, revokeApiKey } from '../../warehouse/index.js';
import { parseFlags } from '../args.js';

export const KEYS_USAGE = `pulse keys create --name NAME --role ROLE [--role ROLE…] [--expires YYYY-MM-DD] [--db FILE]
  pulse keys list | revoke KEY_ID [--db FILE]
  API keys kept (hashed) in the warehouse, for when Pulse is stopped; a running Pulse manages them at /v1/keys.
  Roles: ingest, read, admin, seller:{id}.`;

export async function runKeys(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseFlags(
    rest,
    {
      name: { type: 'string' },
      role: { type: 'string', multiple: true },
      expires: { type: 'string' },
      db: { type: 'string' },
    },
    true,
  );
  const dbPath = values.db ?? process.env.PULSE_DB ?? 'pulse.duckdb';
  if (action !== 'create' && action !== 'list' && action !== 'revoke') {
    throw new PulseError(
      'PULSE_ERR_USAGE',
      `keys needs an action: create, list or revoke (got "${action ?? ''}")`,
      { field: 'action' },
    );
  }
  let roles: Role[] = [];
  let expiresAt: Date | null = null;
  if (action === 'create') {
    if (!values.name) throw new PulseError('PULSE_ERR_USAGE', '--name is required', { field: '--name' });
    if (!values.role || values.role.length === 0)
      throw new PulseError('PULSE_ERR_USAGE', 'at least one --role is required', { field: '--role' });
    try {
      roles = values.role.map(parseRole);
    } catch (error) {
      throw new PulseError('PULSE_ERR_USAGE', `--role: ${(error as Error).message}`, { field: '--role' });
    }
    if (values.expires !== undefined) {
      expiresAt = new Date(values.expires);
      if (Number.isNaN(expiresAt.getTime()))
        throw new PulseError('PULSE_ERR_USAGE', `--expires must be a date, got "${values.expires}"`, {
          field: '--expires',
        });
    }
  }
  if (action === 'revoke' && positionals.length !== 1)
    throw new PulseError('PULSE_ERR_USAGE', 'keys revoke needs one KEY_ID', { field: 'KEY_ID' });
  const warehouse = await openWarehouse({ path: dbPath });
  try {
    if (action === 'create') {
      const { key, stored } = generateKey(values.name as string, roles, expiresAt);
      await insertApiKey(warehouse.writer, stored);
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Key ${stored.id} created with roles ${roles.join(', ')}. It is shown once: keep it now.\n`,
      );
      return 0;
    }
    if (action === 'revoke') {
      const done = await revokeApiKey(warehouse.writer, positionals[0] as string);
      if (!done)
        throw new PulseError('PULSE_ERR_USAGE', `no active key "${positionals[0] as string}"`, {
          field: 'KEY_ID',
        });
      return 0;
    }
    for (const key of await loadApiKeys(warehouse.reader)) {
      process.stdout.write(
        `${key.id}\t${key.name}\t${key.roles.join(',')}\t${key.expiresAt?.toISOString() ?? 'never'}\t${key.revoked ? 'revoked' : 'active'}\n`,
      );
    }
    return 0;
  } finally {
    await warehouse.close();
  }
}
