// 5-field cron expressions (minute hour day-of-month month day-of-week) and their next fire time in an
// IANA time zone.
//
// Written in-house instead of using croner/cron-parser because neither is a dependency of this project
// (the issue allows them for next-fire-time only; adding one is the lead's call). Zone offsets come
// from Intl.DateTimeFormat, so no tz database ships with the operator.
//
// Semantics (Vixie cron, with the Kubernetes CronJob reading where the two differ):
// - Fields: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or SUN-SAT
//   (0 and 7 are both Sunday). Names are case-insensitive and allowed in ranges (MON-FRI).
// - Items: `*`, `N`, `N-M`, with an optional `/step`; `N/step` means `N-max/step`. Lists with `,`.
//   `?` is accepted as `*` in the two day fields (Kubernetes CronJob accepts it too). Macros such as
//   `@daily` and `CRON_TZ=`/`TZ=` prefixes are rejected: the CRD pattern forbids them and the time zone
//   belongs in spec.timeZone.
// - Day matching: when both day-of-month and day-of-week are restricted, a day matches if EITHER
//   matches (Vixie). A day field counts as unrestricted only when it is exactly `*` or `?` (optionally
//   `/1`); `*/2` is restricted. That is the Kubernetes CronJob (robfig/cron) reading; Vixie would
//   treat any field starting with `*` as unrestricted.
// - Daylight saving time, as Vixie/cronie cron does it:
//   * "Fixed-time" schedules (neither the minute nor the hour field starts with `*`, e.g. `30 2 * * *`):
//     a wall-clock time skipped by a spring-forward jump fires once, at the instant the jump happens
//     (02:30 in Europe/Berlin on the last Sunday of March fires at 03:00 CEST); several skipped times
//     collapse into that one run. A wall-clock time repeated by a fall-back jump fires once, at its
//     first occurrence.
//   * "Wildcard" schedules (minute or hour field starts with `*`, e.g. `*/15 * * * *`, `0 * * * *`)
//     follow the wall clock as it is: skipped times do not exist and do not fire; repeated times fire
//     in both passes. This keeps interval-like schedules evenly spaced in real time.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
// Longest gap between two fire times of a valid schedule: a Feb 29 schedule across a skipped
// leap year (2096 -> 2104) is 8 years.
const SEARCH_HORIZON_MS = 9 * 366 * DAY_MS;
// How far back to look for a fall-back jump that makes the current wall-clock time a repeat.
const REPEAT_LOOKBACK_MS = 25 * HOUR_MS;

export const SCHEDULE_FIELD_PATH = 'spec.schedule';
export const TIME_ZONE_FIELD_PATH = 'spec.timeZone';
export const DEFAULT_TIME_ZONE = 'UTC';

export type CronFieldName = 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

interface FieldSpec {
  readonly name: CronFieldName;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[]; // names[i] is the value min + i
  readonly allowQuestionMark: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELD_SPECS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59, allowQuestionMark: false },
  { name: 'hour', min: 0, max: 23, allowQuestionMark: false },
  { name: 'day-of-month', min: 1, max: 31, allowQuestionMark: true },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, allowQuestionMark: false },
  // 7 is accepted as Sunday and folded into 0 after parsing.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, allowQuestionMark: true },
];

/** A parse error that names the offending field and token; `message` is ready for a Stalled condition. */
export class CronSyntaxError extends Error {
  readonly field: CronFieldName | undefined;
  readonly token: string | undefined;

  constructor(message: string, field?: CronFieldName, token?: string) {
    super(message);
    this.name = 'CronSyntaxError';
    this.field = field;
    this.token = token;
  }
}

export interface CronSchedule {
  readonly expression: string;
  /** allowed[value] for each field; day-of-week is 0-6 (Sunday = 0). */
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly daysOfMonth: readonly boolean[];
  readonly months: readonly boolean[];
  readonly daysOfWeek: readonly boolean[];
  /** Field is exactly `*`/`?`: the other day field alone decides (AND with everything). */
  readonly dayOfMonthUnrestricted: boolean;
  readonly dayOfWeekUnrestricted: boolean;
  /** Neither minute nor hour starts with `*`: the DST catch-up/run-once rules apply (see file header). */
  readonly fixedTime: boolean;
}

interface ParsedField {
  readonly allowed: boolean[];
  readonly unrestricted: boolean;
  readonly startsWithStar: boolean;
}

function fieldError(field: FieldSpec, token: string, problem: string): CronSyntaxError {
  return new CronSyntaxError(`${SCHEDULE_FIELD_PATH}: field '${field.name}' value '${token}' ${problem}`, field.name, token);
}

function rangeText(field: FieldSpec): string {
  const numeric = `${field.min}-${field.max}`;
  return field.names ? `${numeric} or ${field.names[0]}-${field.names[field.names.length - 1]}` : numeric;
}

function parseValue(field: FieldSpec, text: string, token: string): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) throw fieldError(field, token, `is out of range ${rangeText(field)}`);
    return value;
  }
  if (field.names) {
    const index = field.names.indexOf(text.toUpperCase());
    if (index >= 0) return field.min + index;
    throw fieldError(field, token, `is not a number or a name (${rangeText(field)})`);
  }
  throw fieldError(field, token, `is not a number (${rangeText(field)})`);
}

function parseField(field: FieldSpec, text: string): ParsedField {
  const allowed = new Array<boolean>(field.max + 1).fill(false);
  const items = text.split(',');
  for (const item of items) {
    if (item === '') throw fieldError(field, text, 'has an empty list item');
    const [rangePart, stepPart, ...extra] = item.split('/');
    if (extra.length > 0) throw fieldError(field, item, "has more than one '/'");
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart) || Number(stepPart) < 1 || Number(stepPart) > field.max) {
        throw fieldError(field, item, `has step '${stepPart}', which must be an integer 1-${field.max}`);
      }
      step = Number(stepPart);
    }
    let start: number;
    let end: number;
    if (rangePart === '*' || rangePart === '?') {
      if (rangePart === '?' && !field.allowQuestionMark) {
        throw fieldError(field, item, "is not allowed: '?' only works in day-of-month and day-of-week");
      }
      if (rangePart === '?' && stepPart !== undefined) throw fieldError(field, item, "is not allowed: '?' takes no step");
      start = field.min;
      // `*` in day-of-week means 0-6; 7 would only repeat Sunday.
      end = field.name === 'day-of-week' ? 6 : field.max;
    } else {
      const bounds = rangePart.split('-');
      if (bounds.length > 2 || bounds.some((bound) => bound === '')) throw fieldError(field, item, 'is not a valid range');
      start = parseValue(field, bounds[0], item);
      if (bounds.length === 2) {
        end = parseValue(field, bounds[1], item);
        if (start > end) throw fieldError(field, item, 'is a range that starts after it ends');
      } else {
        // `N/step` means N through the field's maximum.
        end = stepPart !== undefined ? field.max : start;
      }
    }
    for (let value = start; value <= end; value += step) allowed[value] = true;
  }
  if (field.name === 'day-of-week' && allowed[7]) {
    allowed[0] = true;
    allowed[7] = false;
  }
  const unrestricted = items.length === 1 && /^[*?](\/1)?$/.test(items[0]);
  return { allowed, unrestricted, startsWithStar: text.startsWith('*') };
}

// Days in each month of a leap year: a day-of-month that exists in none of the chosen months never fires.
const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses a 5-field cron expression. Throws CronSyntaxError naming the field and token. */
export function parseCron(expression: string): CronSchedule {
  const trimmed = expression.trim();
  if (trimmed === '') throw new CronSyntaxError(`${SCHEDULE_FIELD_PATH}: is empty`);
  if (trimmed.startsWith('@')) {
    throw new CronSyntaxError(
      `${SCHEDULE_FIELD_PATH}: macro '${trimmed.split(/\s+/)[0]}' is not supported; use 5 fields (minute hour day-of-month month day-of-week)`,
    );
  }
  if (/^(CRON_)?TZ=/i.test(trimmed)) {
    throw new CronSyntaxError(`${SCHEDULE_FIELD_PATH}: a time zone prefix is not supported; set ${TIME_ZONE_FIELD_PATH} instead`);
  }
  const texts = trimmed.split(/\s+/);
  if (texts.length !== FIELD_SPECS.length) {
    throw new CronSyntaxError(
      `${SCHEDULE_FIELD_PATH}: expected 5 fields (minute hour day-of-month month day-of-week), got ${texts.length}`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = FIELD_SPECS.map((field, index) => parseField(field, texts[index]));

  const schedule: CronSchedule = {
    expression: trimmed,
    minutes: minute.allowed,
    hours: hour.allowed,
    daysOfMonth: dayOfMonth.allowed,
    months: month.allowed,
    daysOfWeek: dayOfWeek.allowed.slice(0, 7),
    dayOfMonthUnrestricted: dayOfMonth.unrestricted,
    dayOfWeekUnrestricted: dayOfWeek.unrestricted,
    fixedTime: !minute.startsWithStar && !hour.startsWithStar,
  };

  // With day-of-week unrestricted only day-of-month decides; reject dates that never exist (e.g. 30 FEB)
  // instead of accepting a schedule that silently never fires.
  if (schedule.dayOfWeekUnrestricted) {
    let possible = false;
    for (let m = 1; m <= 12 && !possible; m++) {
      if (!schedule.months[m]) continue;
      for (let d = 1; d <= MAX_DAYS_IN_MONTH[m] && !possible; d++) possible = schedule.daysOfMonth[d];
    }
    if (!possible) {
      throw new CronSyntaxError(
        `${SCHEDULE_FIELD_PATH}: day-of-month '${texts[2]}' never occurs in month '${texts[3]}', so the schedule would never fire`,
        'day-of-month',
        texts[2],
      );
    }
  }
  return schedule;
}

/** Returns the Stalled-condition message for an invalid schedule, or undefined when it is valid. */
export function validateCron(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (error) {
    if (error instanceof CronSyntaxError) return error.message;
    throw error;
  }
}

/** Returns the Stalled-condition message for an unknown time zone, or undefined when Intl knows it. */
export function validateTimeZone(timeZone: string): string | undefined {
  try {
    zoneFor(timeZone);
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return `${TIME_ZONE_FIELD_PATH}: unknown time zone '${timeZone}'`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------
// Wall-clock search. Wall-clock times are plain numbers: the UTC epoch milliseconds of the same
// calendar fields, so Date.UTC and the getUTC* accessors do calendar arithmetic without any zone.

function dayMatches(schedule: CronSchedule, dayOfMonth: number, dayOfWeek: number): boolean {
  const byDayOfMonth = schedule.daysOfMonth[dayOfMonth];
  const byDayOfWeek = schedule.daysOfWeek[dayOfWeek];
  if (schedule.dayOfMonthUnrestricted || schedule.dayOfWeekUnrestricted) return byDayOfMonth && byDayOfWeek;
  return byDayOfMonth || byDayOfWeek;
}

function firstAllowedFrom(allowed: readonly boolean[], from: number): number {
  for (let value = from; value < allowed.length; value++) if (allowed[value]) return value;
  return -1;
}

/** First matching wall-clock minute in [fromWall, untilWall), or undefined. */
function nextWallMatch(schedule: CronSchedule, fromWall: number, untilWall: number): number | undefined {
  let wall = Math.ceil(fromWall / MINUTE_MS) * MINUTE_MS;
  while (wall < untilWall) {
    const date = new Date(wall);
    const year = date.getUTCFullYear();
    const monthIndex = date.getUTCMonth();
    const day = date.getUTCDate();
    const hour = date.getUTCHours();
    const minute = date.getUTCMinutes();
    if (!schedule.months[monthIndex + 1]) {
      wall = Date.UTC(year, monthIndex + 1, 1);
      continue;
    }
    if (!dayMatches(schedule, day, date.getUTCDay())) {
      wall = Date.UTC(year, monthIndex, day + 1);
      continue;
    }
    const nextHour = firstAllowedFrom(schedule.hours, hour);
    if (nextHour < 0) {
      wall = Date.UTC(year, monthIndex, day + 1);
      continue;
    }
    if (nextHour !== hour) {
      wall = Date.UTC(year, monthIndex, day, nextHour);
      continue;
    }
    const nextMinute = firstAllowedFrom(schedule.minutes, minute);
    if (nextMinute < 0) {
      wall = Date.UTC(year, monthIndex, day, hour + 1);
      continue;
    }
    if (nextMinute !== minute) {
      wall = Date.UTC(year, monthIndex, day, hour, nextMinute);
      continue;
    }
    return wall;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Zone offsets and their changes (DST or political), found by probing Intl once per zone and year.

interface OffsetChange {
  readonly at: number; // first instant with the new offset
  readonly before: number; // offset (wall - utc, ms) just before `at`
  readonly after: number;
}

const OFFSET_PATTERN = /GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/;

class Zone {
  readonly name: string;
  private readonly formatter: Intl.DateTimeFormat;
  private readonly fixedOffset: boolean;
  private readonly changesByYear = new Map<number, OffsetChange[]>();

  constructor(timeZone: string) {
    // Throws RangeError for an unknown zone.
    this.formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    this.name = this.formatter.resolvedOptions().timeZone;
    this.fixedOffset = this.name === 'UTC' || /^Etc\/GMT[+-]\d+$/.test(this.name);
  }

  offsetAt(instant: number): number {
    if (this.fixedOffset && this.name === 'UTC') return 0;
    const match = OFFSET_PATTERN.exec(this.formatter.format(instant));
    if (!match) throw new Error(`unexpected offset format from Intl for ${this.name}: ${this.formatter.format(instant)}`);
    if (match[1] === undefined) return 0;
    const magnitude = Number(match[2]) * HOUR_MS + Number(match[3] ?? 0) * MINUTE_MS + Number(match[4] ?? 0) * 1000;
    return match[1] === '-' ? -magnitude : magnitude;
  }

  /** Offset changes with `at` in (Jan 1 00:00Z of year, Jan 1 00:00Z of year + 1], probed daily. */
  private changesIn(year: number): OffsetChange[] {
    const cached = this.changesByYear.get(year);
    if (cached) return cached;
    const changes: OffsetChange[] = [];
    if (!this.fixedOffset) {
      const end = Date.UTC(year + 1, 0, 1);
      let previous = Date.UTC(year, 0, 1);
      let previousOffset = this.offsetAt(previous);
      while (previous < end) {
        const probe = Math.min(previous + DAY_MS, end);
        const probeOffset = this.offsetAt(probe);
        if (probeOffset !== previousOffset) {
          // Binary search to the second for the first instant carrying the new offset.
          let low = previous;
          let high = probe;
          while (high - low > 1000) {
            const middle = low + Math.floor((high - low) / 2000) * 1000;
            if (this.offsetAt(middle) === previousOffset) low = middle;
            else high = middle;
          }
          changes.push({ at: high, before: previousOffset, after: this.offsetAt(high) });
        }
        previous = probe;
        previousOffset = probeOffset;
      }
    }
    this.changesByYear.set(year, changes);
    return changes;
  }

  /** Offset changes with `at` in (from, to], oldest first. */
  changesBetween(from: number, to: number): OffsetChange[] {
    const result: OffsetChange[] = [];
    if (this.fixedOffset || to <= from) return result;
    const firstYear = new Date(from).getUTCFullYear();
    const lastYear = new Date(to).getUTCFullYear();
    for (let year = firstYear; year <= lastYear; year++) {
      for (const change of this.changesIn(year)) if (change.at > from && change.at <= to) result.push(change);
    }
    return result;
  }

  firstChangeBetween(from: number, to: number): OffsetChange | undefined {
    if (this.fixedOffset || to <= from) return undefined;
    const firstYear = new Date(from).getUTCFullYear();
    const lastYear = new Date(to).getUTCFullYear();
    for (let year = firstYear; year <= lastYear; year++) {
      for (const change of this.changesIn(year)) if (change.at > from && change.at <= to) return change;
    }
    return undefined;
  }
}

const zones = new Map<string, Zone>();

function zoneFor(timeZone: string): Zone {
  let zone = zones.get(timeZone);
  if (!zone) {
    zone = new Zone(timeZone);
    zones.set(timeZone, zone);
  }
  return zone;
}

/** Offset (wall clock minus UTC) in milliseconds of `timeZone` at `instant`. Exported for tests and status text. */
export function zoneOffsetMs(instant: Date, timeZone: string = DEFAULT_TIME_ZONE): number {
  return zoneFor(timeZone).offsetAt(instant.getTime());
}

/**
 * The first fire time strictly after `after` (to the minute), in `timeZone` (IANA, default UTC), or
 * undefined if none within 9 years (cannot happen for a schedule parseCron accepted). DST rules: see
 * the file header. Throws RangeError for an unknown time zone (check validateTimeZone first).
 */
export function nextFireTime(schedule: CronSchedule, after: Date, timeZone: string = DEFAULT_TIME_ZONE): Date | undefined {
  const zone = zoneFor(timeZone);
  let instant = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const horizon = instant + SEARCH_HORIZON_MS;
  let offset = zone.offsetAt(instant);
  // Wall-clock times below this were already lived through at an earlier instant (after a fall-back
  // jump); fixed-time schedules have fired for them already.
  let repeatedUntilWall = Number.NEGATIVE_INFINITY;
  const recentChanges = zone.changesBetween(instant - REPEAT_LOOKBACK_MS, instant);
  const lastChange = recentChanges[recentChanges.length - 1];
  if (lastChange && lastChange.after < lastChange.before) repeatedUntilWall = lastChange.at + lastChange.before;

  while (instant < horizon) {
    const wall = nextWallMatch(schedule, instant + offset, horizon + offset);
    if (wall === undefined) return undefined;
    const candidate = wall - offset;
    const change = zone.firstChangeBetween(instant, candidate);
    if (change === undefined) {
      if (schedule.fixedTime && wall < repeatedUntilWall) {
        // Second pass through a repeated hour: skip to where wall-clock time is new again.
        instant = Math.max(candidate + MINUTE_MS, repeatedUntilWall - offset);
        continue;
      }
      return new Date(candidate);
    }
    // The offset changes before the candidate. If the jump is forward and skips a wall-clock time this
    // fixed-time schedule wanted, fire once when the gap ends; otherwise continue with the new offset.
    if (schedule.fixedTime && change.after > change.before && wall < change.at + change.after) {
      return new Date(change.at);
    }
    repeatedUntilWall = change.after < change.before ? change.at + change.before : Number.NEGATIVE_INFINITY;
    instant = change.at;
    offset = change.after;
  }
  return undefined;
}

/** Convenience: parse (throws CronSyntaxError) and compute the next fire time. */
export function nextFireTimeOf(expression: string, after: Date, timeZone: string = DEFAULT_TIME_ZONE): Date | undefined {
  return nextFireTime(parseCron(expression), after, timeZone);
}
