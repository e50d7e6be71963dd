import type { Catalogue } from '../kpis/index.js';
import { kpiInputs } from '../kpis/index.js';
import type { ModelDefinition } from '../models/index.js';

/** A failing error rule on a KPI's inputs. */
export interface HoldingRule {
  readonly rule: string;
  readonly table: string;
  readonly failed: number;
}

/** Why a KPI serves its last good value instead of a new one. */
export interface KpiHold {
  readonly since: string;
  readonly rules: readonly HoldingRule[];
}

/**
 * Every table a KPI depends on: the gold tables its measure SQL refs (the catalogue), then
 * everything those models ref, transitively (the model graph). Derived, never listed by hand.
 */
export function kpiDependencies(
  catalogue: Catalogue,
  models: readonly ModelDefinition[],
): Map<string, ReadonlySet<string>> {
  const byName = new Map(models.map((model) => [model.name, model]));
  const result = new Map<string, ReadonlySet<string>>();
  for (const kpi of catalogue.kpis) {
    const seen = new Set<string>();
    const stack = [...kpiInputs(kpi)];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      stack.push(...(byName.get(name)?.refs ?? []));
    }
    result.set(kpi.id, seen);
  }
  return result;
}

/**
 * The publish gate: given the failing error rules, which KPIs are held and by what. A KPI is
 * held from the first pass that finds an error rule failing on its inputs until a pass finds
 * all of them passing again.
 */
export class PublishGate {
  readonly #dependencies: ReadonlyMap<string, ReadonlySet<string>>;
  #holds: ReadonlyMap<string, KpiHold> = new Map();

  constructor(dependencies: ReadonlyMap<string, ReadonlySet<string>>) {
    this.#dependencies = dependencies;
  }

  get holds(): ReadonlyMap<string, KpiHold> {
    return this.#holds;
  }

  hold(kpiId: string): KpiHold | undefined {
    return this.#holds.get(kpiId);
  }

  dependencies(kpiId: string): ReadonlySet<string> {
    return this.#dependencies.get(kpiId) ?? new Set();
  }

  /** Applies the failing error rules; returns the KPIs newly held and newly released. */
  update(failing: readonly HoldingRule[], now: Date): { held: string[]; released: string[] } {
    const next = new Map<string, KpiHold>();
    const held: string[] = [];
    const released: string[] = [];
    for (const [kpi, tables] of this.#dependencies) {
      const rules = failing.filter((rule) => tables.has(rule.table));
      const before = this.#holds.get(kpi);
      if (rules.length > 0) {
        next.set(kpi, { since: before?.since ?? now.toISOString(), rules });
        if (!before) held.push(kpi);
      } else if (before) released.push(kpi);
    }
    this.#holds = next;
    return { held, released };
  }
}
