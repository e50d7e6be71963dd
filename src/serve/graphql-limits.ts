import { GraphQLError, Kind, type ASTVisitor, type SelectionNode, type ValidationContext } from 'graphql';

export interface QueryLimits {
  /** Deepest selection nesting, fragments followed. */
  readonly maxDepth: number;
  /** Fields selected in the whole document, fragments counted where spread (aliases count each time). */
  readonly maxFields: number;
  /** Aliased fields in the whole document. */
  readonly maxAliases: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 8, maxFields: 300, maxAliases: 30 };

/**
 * Bounds what one document may ask for, introspection included, before anything runs: a query
 * nested, aliased or fragment-spread into huge work is refused with a clear error, not executed.
 */
export function limitRule(limits: QueryLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((definition) => [definition.name.value, definition]),
    );
    return {
      OperationDefinition(operation) {
        let fields = 0;
        let aliases = 0;
        let deepest = 0;
        let tooComplex = false;
        const walk = (
          selections: readonly SelectionNode[],
          depth: number,
          spread: ReadonlySet<string>,
        ): void => {
          if (tooComplex) return;
          for (const selection of selections) {
            if (selection.kind === Kind.FIELD) {
              fields += 1;
              if (selection.alias) aliases += 1;
              if (fields > limits.maxFields || aliases > limits.maxAliases) {
                tooComplex = true;
                return;
              }
              const next = depth + (selection.selectionSet ? 1 : 0);
              deepest = Math.max(deepest, next);
              if (selection.selectionSet && next <= limits.maxDepth)
                walk(selection.selectionSet.selections, next, spread);
            } else if (selection.kind === Kind.INLINE_FRAGMENT) {
              walk(selection.selectionSet.selections, depth, spread);
            } else {
              const name = selection.name.value;
              const fragment = fragments.get(name);
              // A fragment cycle is reported by GraphQL's own rules; never follow one here.
              if (fragment && !spread.has(name))
                walk(fragment.selectionSet.selections, depth, new Set([...spread, name]));
            }
          }
        };
        walk(operation.selectionSet.selections, 0, new Set());
        if (deepest > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `The query is nested ${deepest} levels deep; at most ${limits.maxDepth} are allowed`,
              {
                nodes: [operation],
                extensions: { code: 'PULSE_ERR_QUERY_TOO_COMPLEX', field: 'query' },
              },
            ),
          );
        }
        if (tooComplex) {
          context.reportError(
            new GraphQLError(
              aliases > limits.maxAliases
                ? `The query uses more than ${limits.maxAliases} aliases`
                : `The query selects more than ${limits.maxFields} fields`,
              { nodes: [operation], extensions: { code: 'PULSE_ERR_QUERY_TOO_COMPLEX', field: 'query' } },
            ),
          );
        }
      },
    };
  };
}
