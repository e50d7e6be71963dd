import aws4 from 'aws4';

/** An S3-compatible bucket (AWS S3, MinIO, Ceph, R2…) the scorecards are copied to. */
export interface ObjectStoreConfig {
  /** `https://s3.eu-west-3.amazonaws.com` or `http://minio.internal:9000`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * PUTs one object with a SigV4-signed request, path-style (`endpoint/bucket/key`), which every
 * S3-compatible server accepts. Throws with the server's status on refusal.
 */
export async function putObject(
  store: ObjectStoreConfig,
  key: string,
  body: Buffer,
  contentType: string,
  timeoutMs = 30_000,
): Promise<string> {
  const endpoint = new URL(store.endpoint);
  const base = endpoint.pathname.replace(/\/$/, '');
  const path = `${base}/${encodeURIComponent(store.bucket)}/${(store.prefix + key).split('/').map(encodeURIComponent).join('/')}`;
  const signed = aws4.sign(
    {
      host: endpoint.host,
      path,
      method: 'PUT',
      service: 's3',
      region: store.region,
      headers: { 'content-type': contentType, 'content-length': String(body.length) },
      body,
    },
    { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  );
  const response = await fetch(`${endpoint.protocol}//${endpoint.host}${path}`, {
    method: 'PUT',
    headers: signed.headers as Record<string, string>,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(
      `PUT ${store.bucket}/${store.prefix}${key}: HTTP ${response.status} ${text.slice(0, 200)}`,
    );
  return `s3://${store.bucket}/${store.prefix}${key}`;
}
