import type { DuckDBConnection } from '@duckdb/node-api';
import type { Role, StoredKey } from '../security/index.js';
import { queryRows } from './query.js';

/** API keys kept in the warehouse: ids, names, roles, expiry and the secret's hash, never the secret. */
export async function loadApiKeys(connection: DuckDBConnection): Promise<StoredKey[]> {
  const rows = await queryRows(
    connection,
    `SELECT key_id, name, secret_sha256, to_json(roles)::VARCHAR AS roles, epoch_ms(expires_at) AS expires_ms,
            revoked_at IS NOT NULL AS revoked
     FROM pulse_api_keys ORDER BY created_at`,
  );
  return rows.map((row) => ({
    id: String(row.key_id),
    name: String(row.name),
    sha256: String(row.secret_sha256),
    roles: JSON.parse(String(row.roles)) as Role[],
    expiresAt: row.expires_ms === null ? null : new Date(Number(row.expires_ms)),
    revoked: row.revoked === true,
  }));
}

export async function insertApiKey(connection: DuckDBConnection, key: StoredKey): Promise<void> {
  await connection.run(
    `INSERT INTO pulse_api_keys VALUES ($id, $name, $sha, $roles::VARCHAR[], now(), $expires::TIMESTAMPTZ, NULL)`,
    {
      id: key.id,
      name: key.name,
      sha: key.sha256,
      roles: JSON.stringify(key.roles),
      expires: key.expiresAt?.toISOString() ?? null,
    } as never,
  );
}

export async function revokeApiKey(connection: DuckDBConnection, id: string): Promise<boolean> {
  const result = await connection.run(
    `UPDATE pulse_api_keys SET revoked_at = now() WHERE key_id = $id AND revoked_at IS NULL`,
    { id },
  );
  return result.rowsChanged > 0;
}
