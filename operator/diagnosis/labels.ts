// Label-selector matching with Kubernetes semantics (metav1.LabelSelector), plus an explainer that names
// the pods a selector nearly matches. Pure functions: no API calls.
//
// Semantics (k8s.io/apimachinery LabelSelectorAsSelector):
// - matchLabels and matchExpressions are ANDed;
// - an empty selector ({}) selects everything;
// - a null/absent selector selects nothing. Callers whose field means "absent = everything" (for example
//   NetworkPolicy spec.podSelector) pass `selector ?? {}` themselves;
// - In: the key is present and its value is in the set; NotIn: the key is absent OR its value is not in
//   the set; Exists: the key is present; DoesNotExist: the key is absent.
// - A selector the API server would reject (unknown operator, In without values, Exists with values)
//   matches nothing here: such objects cannot exist in a cluster, and "nothing" is the reading that
//   never invents connectivity.
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';

export type Labels = Readonly<Record<string, string>>;
export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** One normalised requirement; a matchLabels entry becomes `In` with a single value. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
  /** True when it came from matchLabels (formatted as key=value rather than key in (value)). */
  readonly fromMatchLabels: boolean;
}

export class InvalidLabelSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLabelSelectorError';
  }
}

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const NOTHING = '<nothing>';
const EVERYTHING = '<everything>';
const NO_LABELS = '<none>';

/** Normalises a selector into requirements. Throws InvalidLabelSelectorError for selectors the API rejects. */
export function selectorRequirements(selector: V1LabelSelector): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, operator: 'In', values: [value], fromMatchLabels: true });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const operator = expression.operator;
    if (!OPERATORS.includes(operator)) {
      throw new InvalidLabelSelectorError(`unknown label selector operator "${operator}" for key "${expression.key}"`);
    }
    const values = expression.values ?? [];
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
      throw new InvalidLabelSelectorError(`operator ${operator} for key "${expression.key}" needs at least one value`);
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
      throw new InvalidLabelSelectorError(`operator ${operator} for key "${expression.key}" takes no values`);
    }
    requirements.push({ key: expression.key, operator: operator as SelectorOperator, values, fromMatchLabels: false });
  }
  return requirements;
}

export function requirementMatches(requirement: LabelRequirement, labels: Labels | undefined): boolean {
  const present = labels !== undefined && Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'In':
      return present && requirement.values.includes(value as string);
    case 'NotIn':
      return !present || !requirement.values.includes(value as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/** True when the selector selects an object with these labels. null/undefined selects nothing. */
export function matchesLabelSelector(selector: V1LabelSelector | null | undefined, labels: Labels | undefined): boolean {
  if (selector === null || selector === undefined) return false;
  let requirements: LabelRequirement[];
  try {
    requirements = selectorRequirements(selector);
  } catch (error) {
    if (error instanceof InvalidLabelSelectorError) return false;
    throw error;
  }
  return requirements.every((requirement) => requirementMatches(requirement, labels));
}

/** A Service-style selector (plain map). An empty or absent map selects nothing: such a Service has no managed endpoints. */
export function matchesMapSelector(selector: Labels | null | undefined, labels: Labels | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return matchesLabelSelector({ matchLabels: { ...selector } }, labels);
}

/** {} or a selector with no requirements: selects everything. */
export function isEmptySelector(selector: V1LabelSelector | null | undefined): boolean {
  if (selector === null || selector === undefined) return false;
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

export function formatRequirement(requirement: LabelRequirement): string {
  const { key, operator, values } = requirement;
  switch (operator) {
    case 'In':
      return requirement.fromMatchLabels || values.length === 1 ? `${key}=${values[0]}` : `${key} in (${values.join(',')})`;
    case 'NotIn':
      return values.length === 1 ? `${key}!=${values[0]}` : `${key} notin (${values.join(',')})`;
    case 'Exists':
      return key;
    case 'DoesNotExist':
      return `!${key}`;
  }
}

/** kubectl-style rendering: "app=web,tier in (api,db),!canary". */
export function formatLabelSelector(selector: V1LabelSelector | null | undefined): string {
  if (selector === null || selector === undefined) return NOTHING;
  let requirements: LabelRequirement[];
  try {
    requirements = selectorRequirements(selector);
  } catch (error) {
    if (error instanceof InvalidLabelSelectorError) return `<invalid: ${error.message}>`;
    throw error;
  }
  return requirements.length === 0 ? EVERYTHING : requirements.map(formatRequirement).join(',');
}

export function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? NO_LABELS : entries.map(([key, value]) => `${key}=${value}`).join(',');
}

// ---------------------------------------------------------------------------------------------------
// Nearest mismatches: "Service selector app=backend matches no pods; pod backend-v2-x has app=backend-v2".

export interface LabeledObject {
  readonly metadata?: V1ObjectMeta;
}

export type LabelDifferenceKind = 'value-differs' | 'missing' | 'unexpected';

export interface LabelDifference {
  readonly key: string;
  readonly kind: LabelDifferenceKind;
  /** The failed requirement, formatted: "app=backend", "tier in (api,db)", "!canary". */
  readonly wanted: string;
  /** The pod's value for the key, undefined when absent. */
  readonly actual: string | undefined;
  /** For example: "the value backend is under label name". */
  readonly hint?: string;
  /** "has app=backend-v2, selector wants app=backend". */
  readonly description: string;
}

export interface NearMiss {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Labels;
  readonly differences: readonly LabelDifference[];
  /** Requirements the object already satisfies. */
  readonly satisfied: number;
  /** "backend-v2-7d9f (has app=backend-v2, selector wants app=backend)". */
  readonly summary: string;
}

export interface SelectorMatchReport {
  readonly selector: string;
  readonly candidateCount: number;
  readonly matched: readonly string[];
  /** Closest non-matching objects first; empty when something matched or there were no candidates. */
  readonly nearMisses: readonly NearMiss[];
  readonly message: string;
}

export interface ExplainOptions {
  /** How many near misses to report (default 3). */
  readonly limit?: number;
  /** What the candidates are, for the message (default "pods"). */
  readonly noun?: string;
}

const DEFAULT_NEAR_MISS_LIMIT = 3;

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** 0 for identical strings, 1 for entirely different ones. */
function distance(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 0 : levenshtein(a, b) / longest;
}

function hintForMissingKey(requirement: LabelRequirement, labels: Labels): string | undefined {
  const caseVariant = Object.keys(labels).find((key) => key.toLowerCase() === requirement.key.toLowerCase());
  if (caseVariant !== undefined) return `label keys are case-sensitive: the pod has ${caseVariant}=${labels[caseVariant]}`;
  if (requirement.operator === 'In') {
    const sameValue = Object.entries(labels).find(([, value]) => requirement.values.includes(value));
    if (sameValue) return `the value ${sameValue[1]} is under label ${sameValue[0]} instead`;
  }
  return undefined;
}

function describeDifference(requirement: LabelRequirement, labels: Labels): { difference: LabelDifference; cost: number } {
  const wanted = formatRequirement(requirement);
  const present = Object.hasOwn(labels, requirement.key);
  const actual = present ? labels[requirement.key] : undefined;
  if (requirement.operator === 'DoesNotExist' || (requirement.operator === 'NotIn' && present)) {
    return {
      difference: { key: requirement.key, kind: 'unexpected', wanted, actual, description: `has ${requirement.key}=${actual}, selector wants ${wanted}` },
      cost: 1,
    };
  }
  if (!present) {
    const hint = hintForMissingKey(requirement, labels);
    const description = `label ${requirement.key} is missing, selector wants ${wanted}` + (hint ? `; ${hint}` : '');
    return { difference: { key: requirement.key, kind: 'missing', wanted, actual, hint, description }, cost: hint ? 1.5 : 2 };
  }
  const closest = Math.min(...requirement.values.map((value) => distance(value, actual as string)));
  return {
    difference: { key: requirement.key, kind: 'value-differs', wanted, actual, description: `has ${requirement.key}=${actual}, selector wants ${wanted}` },
    cost: 1 + closest,
  };
}

/** How far a candidate is from matching: the requirements it fails, each with its cost. */
function nearMissOf(candidate: LabeledObject, requirements: readonly LabelRequirement[], name: string): { nearMiss: NearMiss; cost: number } {
  const labels = candidate.metadata?.labels ?? {};
  let cost = 0;
  const differences: LabelDifference[] = [];
  for (const requirement of requirements) {
    if (requirementMatches(requirement, labels)) continue;
    const described = describeDifference(requirement, labels);
    cost += described.cost;
    differences.push(described.difference);
  }
  const nearMiss: NearMiss = {
    name,
    namespace: candidate.metadata?.namespace,
    labels,
    differences,
    satisfied: requirements.length - differences.length,
    summary: `${name} (${differences.map((difference) => difference.description).join('; ')})`,
  };
  return { nearMiss, cost };
}

/**
 * Explains which candidates a selector matches and, when none do, which ones nearly do and by which label.
 * Candidates should already be restricted to the relevant namespace (a Service selects pods in its own).
 */
export function explainSelectorMatch(
  selector: V1LabelSelector | null | undefined,
  candidates: readonly LabeledObject[],
  options: ExplainOptions = {},
): SelectorMatchReport {
  const labelSelector = selector ?? undefined;
  const noun = options.noun ?? 'pods';
  const limit = options.limit ?? DEFAULT_NEAR_MISS_LIMIT;
  const rendered = formatLabelSelector(labelSelector);
  const nameOf = (candidate: LabeledObject): string => candidate.metadata?.name ?? '<unnamed>';

  if (labelSelector === undefined) {
    return {
      selector: rendered,
      candidateCount: candidates.length,
      matched: [],
      nearMisses: [],
      message: `no selector is set, so it selects no ${noun} (endpoints must be managed by hand)`,
    };
  }
  let requirements: LabelRequirement[];
  try {
    requirements = selectorRequirements(labelSelector);
  } catch (error) {
    if (!(error instanceof InvalidLabelSelectorError)) throw error;
    return { selector: rendered, candidateCount: candidates.length, matched: [], nearMisses: [], message: `selector is invalid: ${error.message}` };
  }

  const matched = candidates.filter((candidate) => matchesLabelSelector(labelSelector, candidate.metadata?.labels)).map(nameOf);
  if (matched.length > 0) {
    return {
      selector: rendered,
      candidateCount: candidates.length,
      matched,
      nearMisses: [],
      message: `selector ${rendered} matches ${matched.length} of ${candidates.length} ${noun}: ${matched.join(', ')}`,
    };
  }
  if (candidates.length === 0) {
    const message = `selector ${rendered} matches no ${noun}: there are no candidate ${noun}`;
    return { selector: rendered, candidateCount: 0, matched: [], nearMisses: [], message };
  }

  const ranked = candidates.map((candidate) => nearMissOf(candidate, requirements, nameOf(candidate)));
  ranked.sort((left, right) => left.cost - right.cost || left.nearMiss.name.localeCompare(right.nearMiss.name));
  const nearMisses = ranked.slice(0, limit).map((entry) => entry.nearMiss);
  return {
    selector: rendered,
    candidateCount: candidates.length,
    matched: [],
    nearMisses,
    message: `selector ${rendered} matches none of ${candidates.length} ${noun}; nearest: ${nearMisses.map((miss) => miss.summary).join(', ')}`,
  };
}

/** The same for a Service's spec.selector map: an empty or absent map selects nothing (a selector-less Service). */
export function explainServiceSelector(
  selector: Labels | null | undefined,
  candidates: readonly LabeledObject[],
  options: ExplainOptions = {},
): SelectorMatchReport {
  const labelSelector = selector && Object.keys(selector).length > 0 ? { matchLabels: { ...selector } } : undefined;
  return explainSelectorMatch(labelSelector, candidates, options);
}
