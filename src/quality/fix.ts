/**
 * The correction applied to quarantined events before they are replayed: a small JSON-patch-like
 * mapping over the event (paths from its root, `data.lines[0].quantity`; `[*]` applies to every
 * item of an array):
 *
 * - `set`: `{ "data.lines[*].quantity": 1 }` writes a value (creating missing objects);
 * - `rename`: `{ "data.qty": "data.quantity" }` moves a value to another path;
 * - `remove`: `["data.coupon"]` deletes fields.
 *
 * Applied in that order: renames, then sets, then removals.
 */
export interface EventFix {
  readonly set?: Readonly<Record<string, unknown>>;
  readonly rename?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

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
