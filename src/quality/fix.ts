/**
 * The correction applied to quarantined events before they are replayed: a small JSON-patch-like
 * mapping over the event (paths from its root, `data.lines[0].quantity`; `[*]` applies to every
 * item of an array):
 *
 * - `rename`: `{ "data.qty": "data.quantity" }` moves a value to another path;
 * - `convert`: `{ "data.lines[*].quantity": "number" }` converts each value found (numbers sent as
 *   strings, stray spaces, lower-case codes); a value that does not convert is left as it is, so
 *   the contract quarantines it again with its reason;
 * - `map`: `{ "data.country": { "France": "FR", "Germany": "DE" } }` replaces each value found in
 *   the table (matched on its text), the others left as they are;
 * - `set`: `{ "data.lines[*].quantity": 1 }` writes a value (creating missing objects);
 * - `remove`: `["data.coupon"]` deletes fields.
 *
 * Applied in that order: renames, conversions, mappings, sets, removals. Each value is corrected on
 * its own, so one fix repairs many events that failed alike, each keeping its own data.
 */
export interface EventFix {
  readonly set?: Readonly<Record<string, unknown>>;
  readonly rename?: Readonly<Record<string, string>>;
  readonly convert?: Readonly<Record<string, Conversion>>;
  readonly map?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly remove?: readonly string[];
}

export const CONVERSIONS = ['number', 'integer', 'string', 'trim', 'upper', 'lower'] as const;
export type Conversion = (typeof CONVERSIONS)[number];

type Segment = string | number | '*';

const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[(?:\d+|\*)\])*)$/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** Parses `data.lines[0].quantity` into segments; throws with the path on anything else. */
export function parsePath(path: string): Segment[] {
  if (path.length === 0 || path.length > 256) throw new Error(`path "${path}" must be 1–256 characters`);
  const segments: Segment[] = [];
  for (const part of path.split('.')) {
    const match = SEGMENT.exec(part);
    if (!match) throw new Error(`path "${path}" is not a dotted path like data.lines[0].quantity`);
    const name = match[1] as string;
    if (FORBIDDEN.has(name)) throw new Error(`path "${path}" names a forbidden field`);
    segments.push(name);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+|\*)\]/g)) {
      segments.push(index[1] === '*' ? '*' : Number(index[1]));
    }
  }
  return segments;
}

/** Checks every path of a fix up front, so a bad one is refused before anything is replayed. */
export function checkFix(fix: EventFix): void {
  for (const path of Object.keys(fix.set ?? {})) parsePath(path);
  for (const [from, to] of Object.entries(fix.rename ?? {})) {
    parsePath(from);
    if (parsePath(to).includes('*')) throw new Error(`rename target "${to}" may not contain [*]`);
  }
  for (const path of fix.remove ?? []) parsePath(path);
  for (const [path, conversion] of Object.entries(fix.convert ?? {})) {
    parsePath(path);
    if (!(CONVERSIONS as readonly string[]).includes(conversion))
      throw new Error(`convert "${path}": "${String(conversion)}" is not one of ${CONVERSIONS.join(', ')}`);
  }
  for (const [path, table] of Object.entries(fix.map ?? {})) {
    parsePath(path);
    if (typeof table !== 'object' || table === null || Array.isArray(table))
      throw new Error(`map "${path}" must be an object of old value → new value`);
    if (Object.keys(table).length > 1_000) throw new Error(`map "${path}" has more than 1000 entries`);
  }
}

/** One value converted, or the value itself when it does not convert. */
function converted(value: unknown, conversion: Conversion): unknown {
  if (conversion === 'string')
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  if (typeof value !== 'string') return value;
  switch (conversion) {
    case 'number':
    case 'integer': {
      const text = value.trim();
      // Plain decimal notation only: "1e3", "0x10" or "" are not what a sender meant by a number.
      if (!/^-?\d+(\.\d+)?$/.test(text)) return value;
      const number = Number(text);
      return conversion === 'integer' && !Number.isInteger(number) ? value : number;
    }
    case 'trim':
      return value.trim();
    case 'upper':
      return value.toUpperCase();
    case 'lower':
      return value.toLowerCase();
  }
}

/** Replaces every value at `path` by `change(value)`. */
function update(root: unknown, path: readonly Segment[], change: (value: unknown) => unknown): void {
  const last = path[path.length - 1] as Segment;
  for (const parent of read(root, path.slice(0, -1))) {
    if (!isContainer(parent)) continue;
    if (last === '*') {
      if (Array.isArray(parent)) parent.forEach((value, i) => (parent[i] = change(value)));
    } else if (Object.hasOwn(parent, last)) parent[last] = change(parent[last]);
  }
}

/** A corrected deep copy of the event. */
export function applyFix(event: unknown, fix: EventFix): unknown {
  const copy = structuredClone(event);
  for (const [from, to] of Object.entries(fix.rename ?? {})) {
    const values = read(copy, parsePath(from));
    if (values.length === 0) continue;
    remove(copy, parsePath(from));
    write(copy, parsePath(to), values[0]);
  }
  for (const [path, conversion] of Object.entries(fix.convert ?? {}))
    update(copy, parsePath(path), (value) => converted(value, conversion));
  for (const [path, table] of Object.entries(fix.map ?? {}))
    update(copy, parsePath(path), (value) => {
      if (value === null || typeof value === 'object') return value;
      const key = String(value);
      return Object.hasOwn(table, key) ? structuredClone(table[key]) : value;
    });
  for (const [path, value] of Object.entries(fix.set ?? {})) write(copy, parsePath(path), value);
  for (const path of fix.remove ?? []) remove(copy, parsePath(path));
  return copy;
}

function isContainer(value: unknown): value is Record<string | number, unknown> {
  return typeof value === 'object' && value !== null;
}

function read(root: unknown, path: readonly Segment[]): unknown[] {
  let nodes: unknown[] = [root];
  for (const segment of path) {
    nodes = nodes.flatMap((node) => {
      if (segment === '*') return Array.isArray(node) ? node : [];
      if (!isContainer(node) || !Object.hasOwn(node, segment)) return [];
      return [node[segment]];
    });
  }
  return nodes;
}

function write(root: unknown, path: readonly Segment[], value: unknown): void {
  const parents = (node: unknown, depth: number): void => {
    const segment = path[depth] as Segment;
    if (!isContainer(node)) return;
    if (depth === path.length - 1) {
      if (segment === '*') {
        if (Array.isArray(node)) node.forEach((_, i) => (node[i] = structuredClone(value)));
      } else node[segment] = structuredClone(value);
      return;
    }
    if (segment === '*') {
      if (Array.isArray(node)) node.forEach((child) => parents(child, depth + 1));
      return;
    }
    if (!isContainer(node[segment])) node[segment] = typeof path[depth + 1] === 'number' ? [] : {};
    parents(node[segment], depth + 1);
  };
  parents(root, 0);
}

function remove(root: unknown, path: readonly Segment[]): void {
  const last = path[path.length - 1] as Segment;
  for (const parent of read(root, path.slice(0, -1))) {
    if (!isContainer(parent)) continue;
    if (last === '*') {
      if (Array.isArray(parent)) parent.length = 0;
    } else if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  }
}
