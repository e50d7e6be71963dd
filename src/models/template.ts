/**
 * The small template language of the SQL models, a subset of dbt's Jinja:
 * `{{ ref('model') }}`, `{{ source('table') }}`, `{{ this }}`, `{{ lo }}`, `{{ hi }}` and
 * `{% if incremental %} … {% else %} … {% endif %}` (not nested).
 */
export interface RenderContext {
  readonly incremental: boolean;
  /** The model's watermark: rows with an ingest sequence above it are new. */
  readonly lo: bigint;
  /** The ingest sequence this run reads up to. */
  readonly hi: bigint;
  readonly self: string;
  readonly resolve: (name: string) => string;
}

const IF_BLOCK = /\{%\s*if\s+incremental\s*%\}([\s\S]*?)(?:\{%\s*else\s*%\}([\s\S]*?))?\{%\s*endif\s*%\}/g;
const EXPRESSION = /\{\{\s*([^}]*?)\s*\}\}/g;
const CALL = /^(ref|source)\(\s*'([a-z0-9_]+)'\s*\)$/;

export function renderModel(sql: string, context: RenderContext): string {
  const withBlocks = sql.replace(IF_BLOCK, (_all, whenIncremental: string, otherwise: string | undefined) =>
    context.incremental ? whenIncremental : (otherwise ?? ''),
  );
  if (/\{%/.test(withBlocks)) throw new Error(`unsupported template block in model ${context.self}`);
  return withBlocks.replace(EXPRESSION, (_all, expression: string) => {
    if (expression === 'lo') return context.lo.toString();
    if (expression === 'hi') return context.hi.toString();
    if (expression === 'this') return context.self;
    const call = CALL.exec(expression);
    if (call) return context.resolve(call[2] as string);
    throw new Error(`unknown template expression {{ ${expression} }} in model ${context.self}`);
  });
}
