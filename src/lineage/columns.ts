/**
 * Column lineage of one SQL query, from DuckDB's own parse tree (`json_serialize_sql`): for every
 * output column, the set of upstream columns its expression reads ("direct"), and for the query
 * the columns its filters, joins, groupings and qualifications read ("indirect"). Handles CTEs,
 * subqueries, joins (ASOF included), UNION, window functions (named windows are inlined by the
 * parser), CASE, `*` (from the column lists it is given), `from_json` / `->>` JSON extraction and
 * `unnest` of extracted lists.
 */

/** Where a value comes from: node ids (`table.column`, or a JSON field of bronze's payload). */
export interface Lineage {
  readonly origins: ReadonlySet<string>;
  /** For a struct (or list of structs): the lineage of each field. */
  readonly fields?: ReadonlyMap<string, Lineage>;
}

export interface OutputColumn {
  readonly name: string;
  readonly lineage: Lineage;
}

export interface QueryLineage {
  readonly columns: readonly OutputColumn[];
  readonly indirect: ReadonlySet<string>;
}

export interface LineageEnvironment {
  /** The columns of a table outside the query (from the warehouse catalog), or undefined. */
  readonly tableColumns: (table: string) => readonly string[] | undefined;
  /** The node id of a table's column. */
  readonly columnOrigin: (table: string, column: string) => string;
  /** A field of a JSON payload column: the node id, given the event types the query filters on. */
  readonly jsonOrigin: (origin: string, path: string, eventTypes: readonly string[]) => readonly string[];
}

type Node = Record<string, unknown>;

interface Relation {
  readonly alias: string;
  readonly columns: readonly OutputColumn[];
}

interface Scope {
  readonly relations: Relation[];
  readonly outer: Scope | undefined;
  readonly aliases: Map<string, Lineage>;
  readonly eventTypes: string[];
  readonly ctes: ReadonlyMap<string, readonly OutputColumn[]>;
}

const EMPTY: Lineage = { origins: new Set() };

/** Lineage of a parsed statement (the `node` of `json_serialize_sql`'s first statement). */
export function queryLineage(node: Node, environment: LineageEnvironment): QueryLineage {
  const problems: string[] = [];
  const result = new QueryWalker(environment, problems).query(node, undefined, new Map());
  if (problems.length > 0) throw new Error(problems.join('; '));
  return result;
}

class QueryWalker {
  readonly #env: LineageEnvironment;
  readonly #problems: string[];

  constructor(env: LineageEnvironment, problems: string[]) {
    this.#env = env;
    this.#problems = problems;
  }

  query(
    node: Node,
    outer: Scope | undefined,
    ctes: ReadonlyMap<string, readonly OutputColumn[]>,
  ): QueryLineage {
    const withCtes = new Map(ctes);
    // What the CTEs filter on filters the query too.
    const indirect = new Set<string>();
    const cteEntries = ((node.cte_map as Node | undefined)?.map as Node[] | undefined) ?? [];
    for (const entry of cteEntries) {
      const cteQuery = ((entry.value as Node).query as Node).node as Node;
      const cte = this.query(cteQuery, outer, withCtes);
      withCtes.set(String(entry.key).toLowerCase(), cte.columns);
      addAll(indirect, cte.indirect);
    }
    if (node.type === 'SET_OPERATION_NODE') {
      const combined = this.#setOperation(node, outer, withCtes);
      return { columns: combined.columns, indirect: new Set([...indirect, ...combined.indirect]) };
    }
    if (node.type !== 'SELECT_NODE') {
      this.#problems.push(`unsupported query node ${String(node.type)}`);
      return { columns: [], indirect: new Set() };
    }
    const scope: Scope = { relations: [], outer, aliases: new Map(), eventTypes: [], ctes: withCtes };
    this.#from(node.from_table as Node, scope, indirect);
    scope.eventTypes.push(...eventTypesIn(node.where_clause));
    const columns: OutputColumn[] = [];
    for (const item of (node.select_list as Node[]) ?? []) {
      if (item.class === 'STAR') {
        columns.push(...this.#star(item, scope));
        continue;
      }
      const lineage = this.expression(item, scope, indirect);
      const name = outputName(item, columns.length);
      columns.push({ name, lineage });
      scope.aliases.set(name, lineage);
    }
    const groups = (node.groups as Node | undefined)?.group_expressions;
    for (const part of [node.where_clause, node.having, node.qualify, groups]) {
      if (part) addAll(indirect, this.expression(part as Node, scope, indirect).origins);
    }
    return { columns, indirect };
  }

  #setOperation(
    node: Node,
    outer: Scope | undefined,
    ctes: ReadonlyMap<string, readonly OutputColumn[]>,
  ): QueryLineage {
    const parts = ((node.children as Node[] | undefined) ?? [node.left as Node, node.right as Node]).filter(
      Boolean,
    );
    const results = parts.map((part) => this.query(part, outer, ctes));
    const first = results[0];
    if (!first) return { columns: [], indirect: new Set() };
    const indirect = new Set<string>();
    for (const result of results) addAll(indirect, result.indirect);
    const columns = first.columns.map((column, i) => ({
      name: column.name,
      lineage: merge(results.map((result) => result.columns[i]?.lineage ?? EMPTY)),
    }));
    return { columns, indirect };
  }

  #from(table: Node | undefined, scope: Scope, indirect: Set<string>): void {
    if (!table) return;
    switch (table.type) {
      case 'EMPTY':
        return;
      case 'BASE_TABLE': {
        const name = String(table.table_name).toLowerCase();
        const alias = String(table.alias || name).toLowerCase();
        const cte = scope.ctes.get(name) ?? findCte(scope.outer, name);
        if (cte) {
          scope.relations.push({ alias, columns: cte });
          return;
        }
        const columns = this.#env.tableColumns(name);
        if (!columns) {
          this.#problems.push(`unknown table ${name}`);
          return;
        }
        scope.relations.push({
          alias,
          columns: columns.map((column) => ({
            name: column,
            lineage: { origins: new Set([this.#env.columnOrigin(name, column)]) },
          })),
        });
        return;
      }
      case 'SUBQUERY': {
        const inner = this.query((table.subquery as Node).node as Node, scope.outer, scope.ctes);
        addAll(indirect, inner.indirect);
        scope.relations.push({
          alias: String(table.alias ?? '').toLowerCase(),
          columns: renamed(inner.columns, table.column_name_alias as string[] | undefined),
        });
        return;
      }
      case 'JOIN': {
        this.#from(table.left as Node, scope, indirect);
        this.#from(table.right as Node, scope, indirect);
        if (table.condition)
          addAll(indirect, this.expression(table.condition as Node, scope, indirect).origins);
        return;
      }
      case 'TABLE_FUNCTION': {
        // unnest(list) and friends: lateral, so their arguments see the relations before them.
        const lineage = this.expression(table.function as Node, scope, indirect);
        const names = (table.column_name_alias as string[] | undefined) ?? [];
        const alias = String(table.alias ?? '').toLowerCase();
        scope.relations.push({
          alias,
          columns: (names.length > 0 ? names : [alias || 'unnest']).map((name) => ({
            name: name.toLowerCase(),
            lineage,
          })),
        });
        return;
      }
      default:
        this.#problems.push(`unsupported FROM item ${String(table.type)}`);
    }
  }

  #star(item: Node, scope: Scope): OutputColumn[] {
    const only = item.relation_name ? String(item.relation_name).toLowerCase() : undefined;
    const excluded = new Set(((item.exclude_list as unknown[]) ?? []).map((entry) => excludedName(entry)));
    const relations = only ? scope.relations.filter((relation) => relation.alias === only) : scope.relations;
    if (only && relations.length === 0) this.#problems.push(`${only}.* names no relation`);
    return relations.flatMap((relation) => relation.columns.filter((column) => !excluded.has(column.name)));
  }

  expression(node: Node, scope: Scope, indirect: Set<string>): Lineage {
    if (Array.isArray(node)) return merge(node.map((child: Node) => this.expression(child, scope, indirect)));
    switch (node.class) {
      case 'COLUMN_REF':
        return this.#column(
          (node.column_names as string[]).map((name) => name.toLowerCase()),
          scope,
        );
      case 'CONSTANT':
      case 'PARAMETER':
        return EMPTY;
      case 'CAST':
        return this.expression(node.child as Node, scope, indirect);
      case 'SUBQUERY': {
        const inner = this.query((node.subquery as Node).node as Node, scope, scope.ctes);
        const origins = new Set(inner.indirect);
        for (const column of inner.columns) addAll(origins, column.lineage.origins);
        const rest = node.child ? this.expression(node.child as Node, scope, indirect) : EMPTY;
        return merge([{ origins }, rest]);
      }
      case 'FUNCTION':
        return this.#function(node, scope, indirect);
      default:
        return merge(childExpressions(node).map((child) => this.expression(child, scope, indirect)));
    }
  }

  #function(node: Node, scope: Scope, indirect: Set<string>): Lineage {
    const name = String(node.function_name).toLowerCase();
    const children = (node.children as Node[]) ?? [];
    const first = children[0] ? this.expression(children[0], scope, indirect) : EMPTY;
    const constant = constantString(children[1]);
    if (name === 'from_json' && constant !== undefined) {
      return {
        origins: first.origins,
        fields: this.#jsonFields(first.origins, JSON.parse(constant) as unknown, '', scope),
      };
    }
    if (
      ['->>', '->', 'json_extract', 'json_extract_string', 'json_value'].includes(name) &&
      constant !== undefined
    ) {
      const path = jsonPath(constant);
      if (path !== undefined && !first.fields) {
        return {
          origins: new Set(
            [...first.origins].flatMap((origin) => this.#env.jsonOrigin(origin, path, scope.eventTypes)),
          ),
        };
      }
      if (path !== undefined) return fieldOf(first, path.split('.'));
    }
    if (name === 'struct_extract' && constant !== undefined) return fieldOf(first, [constant.toLowerCase()]);
    if (name === 'unnest') return first;
    return merge(
      children
        .map((child) => this.expression(child, scope, indirect))
        .concat(
          childExpressions({ ...node, children: [] }).map((child) => this.expression(child, scope, indirect)),
        ),
    );
  }

  /** The fields of `from_json(x, '{…}')`: each a JSON path of the payload x comes from. */
  #jsonFields(
    origins: ReadonlySet<string>,
    shape: unknown,
    prefix: string,
    scope: Scope,
  ): Map<string, Lineage> {
    const fields = new Map<string, Lineage>();
    const object = Array.isArray(shape) ? shape[0] : shape;
    if (object === null || typeof object !== 'object') return fields;
    for (const [key, inner] of Object.entries(object as Record<string, unknown>)) {
      const path = `${prefix}${key}${Array.isArray(inner) ? '[]' : ''}`;
      const own = new Set(
        [...origins].flatMap((origin) => this.#env.jsonOrigin(origin, path, scope.eventTypes)),
      );
      const nested =
        typeof inner === 'object' && inner !== null
          ? this.#jsonFields(origins, inner, `${path}.`, scope)
          : undefined;
      fields.set(
        key.toLowerCase(),
        nested && nested.size > 0 ? { origins: own, fields: nested } : { origins: own },
      );
    }
    return fields;
  }

  #column(names: string[], scope: Scope): Lineage {
    for (let current: Scope | undefined = scope; current; current = current.outer) {
      if (names.length >= 2) {
        const relation = current.relations.find((candidate) => candidate.alias === names[0]);
        const column = relation?.columns.find((candidate) => candidate.name === names[1]);
        if (column) return fieldOf(column.lineage, names.slice(2));
      }
      for (const relation of current.relations) {
        const column = relation.columns.find((candidate) => candidate.name === names[0]);
        if (column) return fieldOf(column.lineage, names.slice(1));
      }
      const alias = current.aliases.get(names[0] as string);
      if (alias) return fieldOf(alias, names.slice(1));
    }
    this.#problems.push(`column ${names.join('.')} resolves to no relation`);
    return EMPTY;
  }
}

function findCte(scope: Scope | undefined, name: string): readonly OutputColumn[] | undefined {
  for (let current = scope; current; current = current.outer) {
    const found = current.ctes.get(name);
    if (found) return found;
  }
  return undefined;
}

function fieldOf(lineage: Lineage, path: readonly string[]): Lineage {
  let current = lineage;
  for (const field of path) {
    const next = current.fields?.get(field.replace(/\[\]$/, ''));
    // A field the parse tree does not describe: depend on the whole value, conservatively.
    if (!next) return { origins: current.origins };
    current = next;
  }
  return current;
}

function merge(lineages: readonly Lineage[]): Lineage {
  if (lineages.length === 1) return lineages[0] as Lineage;
  const origins = new Set<string>();
  for (const lineage of lineages) addAll(origins, lineage.origins);
  return { origins };
}

function addAll(target: Set<string>, values: Iterable<string>): void {
  for (const value of values) target.add(value);
}

function renamed(columns: readonly OutputColumn[], aliases: readonly string[] | undefined): OutputColumn[] {
  if (!aliases || aliases.length === 0) return [...columns];
  return columns.map((column, i) => ({
    name: aliases[i]?.toLowerCase() ?? column.name,
    lineage: column.lineage,
  }));
}

/** Every expression directly inside a node (operands, CASE branches, window partitions and orders). */
function childExpressions(node: Node): Node[] {
  const found: Node[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      if ('class' in value) found.push(value as Node);
      else Object.values(value).forEach(visit);
    }
  };
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'class' && key !== 'type') visit(value);
  }
  return found;
}

function outputName(item: Node, index: number): string {
  if (typeof item.alias === 'string' && item.alias.length > 0) return item.alias.toLowerCase();
  if (item.class === 'COLUMN_REF') return String((item.column_names as string[]).at(-1)).toLowerCase();
  if (item.class === 'CAST') return outputName(item.child as Node, index);
  return `#${index}`;
}

function excludedName(entry: unknown): string {
  if (typeof entry === 'string') return entry.toLowerCase();
  const names = (entry as Node)?.column_names as string[] | undefined;
  return String(names?.at(-1) ?? '').toLowerCase();
}

function constantString(node: Node | undefined): string | undefined {
  if (node?.class !== 'CONSTANT') return undefined;
  const value = (node.value as Node | undefined)?.value;
  return typeof value === 'string' ? value : undefined;
}

/** `$.a.b` or `a.b` → `a.b`; paths with wildcards or indexes are not field paths. */
function jsonPath(text: string): string | undefined {
  const path = text.replace(/^\$\.?/, '');
  return /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(path) ? path.toLowerCase() : undefined;
}

/** The event types a WHERE clause pins: `event_type = 'x'` or `event_type IN ('x', 'y')`. */
function eventTypesIn(where: unknown): string[] {
  const types: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    const node = value as Node;
    const refersToType = (child: unknown): boolean =>
      (child as Node | undefined)?.class === 'COLUMN_REF' &&
      ((child as Node).column_names as string[]).at(-1)?.toLowerCase() === 'event_type';
    if (node.type === 'COMPARE_EQUAL' && refersToType(node.left)) {
      const constant = constantString(node.right as Node);
      if (constant) types.push(constant);
    }
    if (node.type === 'COMPARE_IN') {
      const [subject, ...options] = (node.children as Node[]) ?? [];
      if (refersToType(subject))
        for (const option of options) {
          const constant = constantString(option);
          if (constant) types.push(constant);
        }
    }
    Object.values(node).forEach(visit);
  };
  visit(where);
  return types;
}
