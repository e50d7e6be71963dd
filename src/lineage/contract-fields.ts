/** Maps a field of bronze's stored payload back to the contract field it came from. */

type Schema = Record<string, unknown>;

export interface ContractField {
  /** The field's path in the contract: `order_id`, `lines[].discount`. */
  readonly path: string;
  readonly description?: string;
}

/**
 * The contract field stored at `path` (`lines[].sku`), or undefined when the contract declares
 * none. Tokenised fields are stored under another name (`customer_id` → `customer_token`).
 */
export function contractFieldFor(schema: object, path: string): ContractField | undefined {
  let current: Schema | undefined = schema as Schema;
  const contractPath: string[] = [];
  let description: string | undefined;
  for (const segment of path.split('.')) {
    const isList = segment.endsWith('[]');
    const name = segment.replace(/\[\]$/, '');
    const properties = current?.properties as Record<string, Schema> | undefined;
    if (!properties) return undefined;
    let key = name;
    let property = properties[name];
    if (!property && name === 'customer_token') {
      const tokenised = Object.entries(properties).find(([, candidate]) => candidate['x-tokenise'] === true);
      if (tokenised) [key, property] = tokenised;
    }
    if (!property) return undefined;
    description = typeof property.description === 'string' ? property.description : undefined;
    contractPath.push(isList ? `${key}[]` : key);
    current = isList ? (property.items as Schema | undefined) : property;
  }
  return { path: contractPath.join('.'), ...(description ? { description } : {}) };
}
