import { expect } from 'chai';
import {
  CronSyntaxError,
  nextFireTime,
  nextFireTimeOf,
  parseCron,
  validateCron,
  validateTimeZone,
  zoneOffsetMs,
} from '../../operator/schedule/cron.ts';
import type { CronSchedule } from '../../operator/schedule/cron.ts';

const MINUTE = 60_000;

function allowedValues(allowed: readonly boolean[]): number[] {
  return allowed.flatMap((isAllowed, value) => (isAllowed ? [value] : []));
}

/** The next `count` fire times after `after`, as ISO strings. */
function fireTimes(expression: string, after: string, timeZone: string, count: number): string[] {
  const schedule = parseCron(expression);
  const result: string[] = [];
  let cursor = new Date(after);
  for (let i = 0; i < count; i++) {
    const next = nextFireTime(schedule, cursor, timeZone);
    if (!next) break;
    result.push(next.toISOString());
    cursor = next;
  }
  return result;
}

describe('cron: parsing', () => {
  const valid: Array<[string, Partial<Record<'minutes' | 'hours' | 'daysOfMonth' | 'months' | 'daysOfWeek', number[]>>]> = [
    ['* * * * *', { hours: Array.from({ length: 24 }, (_, i) => i), daysOfWeek: [0, 1, 2, 3, 4, 5, 6] }],
    ['*/15 * * * *', { minutes: [0, 15, 30, 45] }],
    ['5/20 * * * *', { minutes: [5, 25, 45] }],
    ['1-10/3 * * * *', { minutes: [1, 4, 7, 10] }],
    ['0,30 9-17 * * *', { minutes: [0, 30], hours: [9, 10, 11, 12, 13, 14, 15, 16, 17] }],
    ['0 0 1,15,31 * *', { daysOfMonth: [1, 15, 31] }],
    ['0 0 * JAN,jul,Dec *', { months: [1, 7, 12] }],
    ['0 0 * mar-MAY *', { months: [3, 4, 5] }],
    ['0 0 * * MON-FRI', { daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * sun,SAT', { daysOfWeek: [0, 6] }],
    ['0 0 * * */2', { daysOfWeek: [0, 2, 4, 6] }],
    ['0 0 ? * 1', { daysOfWeek: [1] }],
    ['  59   23 31 12 6  ', { minutes: [59], hours: [23], daysOfMonth: [31], months: [12], daysOfWeek: [6] }],
  ];
  for (const [expression, expected] of valid) {
    it(`accepts '${expression}'`, () => {
      const schedule = parseCron(expression);
      for (const [key, values] of Object.entries(expected)) {
        expect(allowedValues(schedule[key as keyof typeof expected]), key).to.deep.equal(values);
      }
      expect(validateCron(expression)).to.equal(undefined);
    });
  }

  const invalid: Array<[string, string]> = [
    ['0 25 * * *', "spec.schedule: field 'hour' value '25' is out of range 0-23"],
    ['60 * * * *', "spec.schedule: field 'minute' value '60' is out of range 0-59"],
    ['0 0 0 * *', "spec.schedule: field 'day-of-month' value '0' is out of range 1-31"],
    ['0 0 32 * *', "spec.schedule: field 'day-of-month' value '32' is out of range 1-31"],
    ['0 0 * 13 *', "spec.schedule: field 'month' value '13' is out of range 1-12 or JAN-DEC"],
    ['0 0 * * 8', "spec.schedule: field 'day-of-week' value '8' is out of range 0-7 or SUN-SAT"],
    ['0 0 * FOO *', "spec.schedule: field 'month' value 'FOO' is not a number or a name (1-12 or JAN-DEC)"],
    ['0 0 * * MONDAY', "spec.schedule: field 'day-of-week' value 'MONDAY' is not a number or a name (0-7 or SUN-SAT)"],
    ['MON * * * *', "spec.schedule: field 'minute' value 'MON' is not a number (0-59)"],
    ['30-10 * * * *', "spec.schedule: field 'minute' value '30-10' is a range that starts after it ends"],
    ['0 0 * * FRI-MON', "spec.schedule: field 'day-of-week' value 'FRI-MON' is a range that starts after it ends"],
    ['*/0 * * * *', "spec.schedule: field 'minute' value '*/0' has step '0', which must be an integer 1-59"],
    ['*/x * * * *', "spec.schedule: field 'minute' value '*/x' has step 'x', which must be an integer 1-59"],
    ['1/2/3 * * * *', "spec.schedule: field 'minute' value '1/2/3' has more than one '/'"],
    ['1,,2 * * * *', "spec.schedule: field 'minute' value '1,,2' has an empty list item"],
    ['1- * * * *', "spec.schedule: field 'minute' value '1-' is not a valid range"],
    ['1-2-3 * * * *', "spec.schedule: field 'minute' value '1-2-3' is not a valid range"],
    ['-1 * * * *', "spec.schedule: field 'minute' value '-1' is not a valid range"],
    ['? * * * *', "spec.schedule: field 'minute' value '?' is not allowed: '?' only works in day-of-month and day-of-week"],
    ['0 0 ?/2 * *', "spec.schedule: field 'day-of-month' value '?/2' is not allowed: '?' takes no step"],
    ['* * * *', 'spec.schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['0 * * * * *', 'spec.schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 6'],
    ['', 'spec.schedule: is empty'],
    ['@daily', "spec.schedule: macro '@daily' is not supported; use 5 fields (minute hour day-of-month month day-of-week)"],
    ['CRON_TZ=UTC 0 0 * * *', 'spec.schedule: a time zone prefix is not supported; set spec.timeZone instead'],
    ['0 0 30 2 *', "spec.schedule: day-of-month '30' never occurs in month '2', so the schedule would never fire"],
    ['0 0 31 APR,JUN,SEP,NOV *', "spec.schedule: day-of-month '31' never occurs in month 'APR,JUN,SEP,NOV', so the schedule would never fire"],
  ];
  for (const [expression, message] of invalid) {
    it(`rejects '${expression}' naming the problem`, () => {
      expect(validateCron(expression)).to.equal(message);
      expect(() => parseCron(expression)).to.throw(CronSyntaxError, message);
    });
  }

  it('reports the field and the token on the error object', () => {
    try {
      parseCron('0 25 * * *');
      expect.fail('parseCron accepted hour 25');
    } catch (error) {
      expect(error).to.be.instanceOf(CronSyntaxError);
      expect((error as CronSyntaxError).field).to.equal('hour');
      expect((error as CronSyntaxError).token).to.equal('25');
    }
  });

  it('accepts 30 FEB when day-of-week also restricts (OR semantics make it fire on that weekday)', () => {
    expect(validateCron('0 0 30 2 MON')).to.equal(undefined);
    expect(fireTimes('0 0 30 2 MON', '2025-01-01T00:00:00Z', 'UTC', 2)).to.deep.equal([
      '2025-02-03T00:00:00.000Z',
      '2025-02-10T00:00:00.000Z',
    ]);
  });

  it('classifies fixed-time and wildcard schedules for the DST rules', () => {
    expect(parseCron('30 2 * * *').fixedTime).to.equal(true);
    expect(parseCron('0,30 1-3 * * *').fixedTime).to.equal(true);
    expect(parseCron('*/15 2 * * *').fixedTime).to.equal(false);
    expect(parseCron('0 * * * *').fixedTime).to.equal(false);
    expect(parseCron('0 */2 * * *').fixedTime).to.equal(false);
  });
});

describe('cron: time zones', () => {
  it('validates time zones with a Stalled-ready message', () => {
    expect(validateTimeZone('Europe/Berlin')).to.equal(undefined);
    expect(validateTimeZone('UTC')).to.equal(undefined);
    expect(validateTimeZone('Mars/Olympus_Mons')).to.equal("spec.timeZone: unknown time zone 'Mars/Olympus_Mons'");
    expect(validateTimeZone('')).to.equal("spec.timeZone: unknown time zone ''");
  });

  it('reads zone offsets from Intl, including half-hour zones', () => {
    expect(zoneOffsetMs(new Date('2025-01-15T12:00:00Z'), 'Europe/Berlin')).to.equal(60 * MINUTE);
    expect(zoneOffsetMs(new Date('2025-07-15T12:00:00Z'), 'Europe/Berlin')).to.equal(120 * MINUTE);
    expect(zoneOffsetMs(new Date('2025-01-15T12:00:00Z'), 'America/New_York')).to.equal(-300 * MINUTE);
    expect(zoneOffsetMs(new Date('2025-01-15T12:00:00Z'), 'Asia/Kolkata')).to.equal(330 * MINUTE);
    expect(zoneOffsetMs(new Date('2025-01-15T12:00:00Z'), 'Asia/Kathmandu')).to.equal(345 * MINUTE);
    expect(zoneOffsetMs(new Date('2025-01-15T12:00:00Z'))).to.equal(0);
  });

  it('throws RangeError for an unknown zone when computing fire times', () => {
    expect(() => nextFireTimeOf('* * * * *', new Date(), 'Nowhere/Void')).to.throw(RangeError);
  });
});

describe('cron: next fire time', () => {
  it('is strictly after the reference time, to the minute', () => {
    expect(nextFireTimeOf('* * * * *', new Date('2025-05-05T10:00:00Z'))?.toISOString()).to.equal('2025-05-05T10:01:00.000Z');
    expect(nextFireTimeOf('* * * * *', new Date('2025-05-05T10:00:59.999Z'))?.toISOString()).to.equal('2025-05-05T10:01:00.000Z');
    expect(nextFireTimeOf('0 * * * *', new Date('2025-05-05T10:00:00Z'))?.toISOString()).to.equal('2025-05-05T11:00:00.000Z');
  });

  it('rolls over hours, days, months and years', () => {
    expect(fireTimes('59 23 31 12 *', '2024-12-31T23:59:00Z', 'UTC', 1)).to.deep.equal(['2025-12-31T23:59:00.000Z']);
    expect(fireTimes('0 0 1 * *', '2025-01-31T12:00:00Z', 'UTC', 3)).to.deep.equal([
      '2025-02-01T00:00:00.000Z',
      '2025-03-01T00:00:00.000Z',
      '2025-04-01T00:00:00.000Z',
    ]);
    expect(fireTimes('0 0 31 * *', '2025-01-31T12:00:00Z', 'UTC', 3)).to.deep.equal([
      '2025-03-31T00:00:00.000Z',
      '2025-05-31T00:00:00.000Z',
      '2025-07-31T00:00:00.000Z',
    ]);
  });

  it('finds leap days, skipping 2100 which is not a leap year', () => {
    expect(fireTimes('0 12 29 2 *', '2025-01-01T00:00:00Z', 'UTC', 2)).to.deep.equal([
      '2028-02-29T12:00:00.000Z',
      '2032-02-29T12:00:00.000Z',
    ]);
    expect(fireTimes('0 12 29 2 *', '2096-03-01T00:00:00Z', 'UTC', 1)).to.deep.equal(['2104-02-29T12:00:00.000Z']);
  });

  it('ORs day-of-month and day-of-week when both are restricted (Friday the 13th fires on every Friday and every 13th)', () => {
    expect(fireTimes('0 0 13 * FRI', '2025-06-01T00:00:00Z', 'UTC', 5)).to.deep.equal([
      '2025-06-06T00:00:00.000Z',
      '2025-06-13T00:00:00.000Z', // a Friday and the 13th: once
      '2025-06-20T00:00:00.000Z',
      '2025-06-27T00:00:00.000Z',
      '2025-07-04T00:00:00.000Z',
    ]);
    expect(fireTimes('0 0 13 7 FRI', '2025-06-30T00:00:00Z', 'UTC', 2)).to.deep.equal([
      '2025-07-04T00:00:00.000Z',
      '2025-07-11T00:00:00.000Z',
    ]);
  });

  it('uses only the restricted day field when the other is * or ?', () => {
    expect(fireTimes('0 0 * * MON', '2025-06-01T00:00:00Z', 'UTC', 2)).to.deep.equal([
      '2025-06-02T00:00:00.000Z',
      '2025-06-09T00:00:00.000Z',
    ]);
    expect(fireTimes('0 0 15 * ?', '2025-06-01T00:00:00Z', 'UTC', 2)).to.deep.equal([
      '2025-06-15T00:00:00.000Z',
      '2025-07-15T00:00:00.000Z',
    ]);
  });

  it('treats a stepped */2 day-of-month as restricted (Kubernetes CronJob reading), so it ORs with day-of-week', () => {
    // Odd days of June 2025 OR Mondays (2, 9, 16, ...).
    expect(fireTimes('0 0 */2 * MON', '2025-06-01T00:00:00Z', 'UTC', 4)).to.deep.equal([
      '2025-06-02T00:00:00.000Z',
      '2025-06-03T00:00:00.000Z',
      '2025-06-05T00:00:00.000Z',
      '2025-06-07T00:00:00.000Z',
    ]);
  });

  it('treats day-of-week 7 as Sunday', () => {
    expect(fireTimes('0 0 * * 7', '2025-06-01T00:00:00Z', 'UTC', 1)).to.deep.equal(['2025-06-08T00:00:00.000Z']);
  });

  it('computes fire times in the given time zone', () => {
    expect(fireTimes('0 9 * * *', '2025-01-15T00:00:00Z', 'Asia/Kolkata', 1)).to.deep.equal(['2025-01-15T03:30:00.000Z']);
    expect(fireTimes('0 9 * * *', '2025-01-15T00:00:00Z', 'America/New_York', 1)).to.deep.equal(['2025-01-15T14:00:00.000Z']);
    expect(fireTimes('0 9 * * *', '2025-07-15T00:00:00Z', 'America/New_York', 1)).to.deep.equal(['2025-07-15T13:00:00.000Z']);
    // Day-of-week is evaluated on the zone's calendar: Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    expect(fireTimes('30 0 * * MON', '2025-06-01T00:00:00Z', 'Asia/Tokyo', 1)).to.deep.equal(['2025-06-01T15:30:00.000Z']);
  });

  describe('DST in Europe/Berlin (2025-03-30 02:00 CET -> 03:00 CEST, 2025-10-26 03:00 CEST -> 02:00 CET)', () => {
    it('spring forward: a fixed time inside the skipped hour fires once when the gap ends (03:00 CEST)', () => {
      expect(fireTimes('30 2 * * *', '2025-03-29T12:00:00Z', 'Europe/Berlin', 3)).to.deep.equal([
        '2025-03-30T01:00:00.000Z', // 03:00 CEST
        '2025-03-31T00:30:00.000Z', // 02:30 CEST
        '2025-04-01T00:30:00.000Z',
      ]);
    });

    it('spring forward: several skipped fixed times collapse into one run', () => {
      expect(fireTimes('0,15,30,45 2 * * *', '2025-03-29T12:00:00Z', 'Europe/Berlin', 2)).to.deep.equal([
        '2025-03-30T01:00:00.000Z',
        '2025-03-31T00:00:00.000Z',
      ]);
      // 02:00 (skipped) and 03:00 (real) are the same instant: one run.
      expect(fireTimes('0 2,3 * * *', '2025-03-29T12:00:00Z', 'Europe/Berlin', 3)).to.deep.equal([
        '2025-03-30T01:00:00.000Z',
        '2025-03-31T00:00:00.000Z',
        '2025-03-31T01:00:00.000Z',
      ]);
    });

    it('spring forward: wildcard schedules stay evenly spaced and skip the missing wall-clock times', () => {
      expect(fireTimes('*/30 * * * *', '2025-03-30T00:10:00Z', 'Europe/Berlin', 4)).to.deep.equal([
        '2025-03-30T00:30:00.000Z', // 01:30 CET
        '2025-03-30T01:00:00.000Z', // 03:00 CEST
        '2025-03-30T01:30:00.000Z',
        '2025-03-30T02:00:00.000Z',
      ]);
      expect(fireTimes('15 * * * *', '2025-03-29T23:00:00Z', 'Europe/Berlin', 3)).to.deep.equal([
        '2025-03-29T23:15:00.000Z', // 00:15 CET
        '2025-03-30T00:15:00.000Z', // 01:15 CET
        '2025-03-30T01:15:00.000Z', // 03:15 CEST (02:15 does not exist)
      ]);
    });

    it('fall back: a fixed time in the repeated hour fires once, at its first occurrence', () => {
      expect(fireTimes('30 2 * * *', '2025-10-25T12:00:00Z', 'Europe/Berlin', 2)).to.deep.equal([
        '2025-10-26T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire
        '2025-10-27T01:30:00.000Z',
      ]);
    });

    it('fall back: starting inside the second pass does not fire the repeated time again', () => {
      // 01:10Z is 02:10 CET, after the first 02:30 (CEST) already happened.
      expect(fireTimes('30 2 * * *', '2025-10-26T01:10:00Z', 'Europe/Berlin', 1)).to.deep.equal(['2025-10-27T01:30:00.000Z']);
    });

    it('fall back: wildcard schedules fire in both passes', () => {
      expect(fireTimes('*/30 * * * *', '2025-10-26T00:10:00Z', 'Europe/Berlin', 5)).to.deep.equal([
        '2025-10-26T00:30:00.000Z', // 02:30 CEST
        '2025-10-26T01:00:00.000Z', // 02:00 CET
        '2025-10-26T01:30:00.000Z', // 02:30 CET
        '2025-10-26T02:00:00.000Z', // 03:00 CET
        '2025-10-26T02:30:00.000Z',
      ]);
    });
  });

  describe('DST in America/New_York (2025-03-09 02:00 EST -> 03:00 EDT, 2025-11-02 02:00 EDT -> 01:00 EST)', () => {
    it('spring forward: 02:30 fires at 03:00 EDT', () => {
      expect(fireTimes('30 2 * * *', '2025-03-08T12:00:00Z', 'America/New_York', 2)).to.deep.equal([
        '2025-03-09T07:00:00.000Z', // 03:00 EDT
        '2025-03-10T06:30:00.000Z', // 02:30 EDT
      ]);
    });

    it('fall back: 01:30 fires once, at 01:30 EDT', () => {
      expect(fireTimes('30 1 * * *', '2025-11-01T12:00:00Z', 'America/New_York', 2)).to.deep.equal([
        '2025-11-02T05:30:00.000Z', // 01:30 EDT; 01:30 EST (06:30Z) does not fire
        '2025-11-03T06:30:00.000Z', // 01:30 EST
      ]);
    });

    it('fall back: an hourly schedule fires every real hour through the repeated hour', () => {
      expect(fireTimes('0 * * * *', '2025-11-02T04:30:00Z', 'America/New_York', 4)).to.deep.equal([
        '2025-11-02T05:00:00.000Z', // 01:00 EDT
        '2025-11-02T06:00:00.000Z', // 01:00 EST
        '2025-11-02T07:00:00.000Z', // 02:00 EST
        '2025-11-02T08:00:00.000Z',
      ]);
    });

    it('daily 09:00 keeps its wall-clock time across both changes', () => {
      expect(fireTimes('0 9 * * *', '2025-03-08T00:00:00Z', 'America/New_York', 2)).to.deep.equal([
        '2025-03-08T14:00:00.000Z',
        '2025-03-09T13:00:00.000Z',
      ]);
    });
  });

  it('handles a skipped midnight (America/Sao_Paulo, 2018-11-04 00:00 -> 01:00)', () => {
    expect(fireTimes('0 0 * * *', '2018-11-03T12:00:00Z', 'America/Sao_Paulo', 2)).to.deep.equal([
      '2018-11-04T03:00:00.000Z', // 01:00 -02, the first instant of that day
      '2018-11-05T02:00:00.000Z',
    ]);
  });

  it('handles a skipped calendar day (Pacific/Apia skipped 2011-12-30)', () => {
    expect(fireTimes('0 12 * * *', '2011-12-29T00:00:00Z', 'Pacific/Apia', 3)).to.deep.equal([
      '2011-12-29T22:00:00.000Z', // 12:00 on the 29th, -10
      '2011-12-30T10:00:00.000Z', // the 30th never happened: fire when the 31st begins (00:00 +14)
      '2011-12-30T22:00:00.000Z', // 12:00 on the 31st, +14
    ]);
  });

  it('handles 30-minute DST shifts (Australia/Lord_Howe)', () => {
    // 2025-10-05 02:00 +10:30 -> 02:30 +11.
    expect(fireTimes('15 2 * * *', '2025-10-04T00:00:00Z', 'Australia/Lord_Howe', 2)).to.deep.equal([
      '2025-10-04T15:30:00.000Z',
      '2025-10-05T15:15:00.000Z',
    ]);
  });
});

// ----------------------------------------------------------------------------------------------------
// An independent oracle: walk real time minute by minute, read each minute's wall clock with
// Intl formatToParts, and apply the documented DST rules. nextFireTime must agree with it exactly.

const wallFormatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(instant: number, timeZone: string): number {
  let formatter = wallFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    wallFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
}

function matchesWall(schedule: CronSchedule, wall: number): boolean {
  const date = new Date(wall);
  const byDom = schedule.daysOfMonth[date.getUTCDate()];
  const byDow = schedule.daysOfWeek[date.getUTCDay()];
  const dayOk = schedule.dayOfMonthUnrestricted || schedule.dayOfWeekUnrestricted ? byDom && byDow : byDom || byDow;
  return schedule.months[date.getUTCMonth() + 1] && dayOk && schedule.hours[date.getUTCHours()] && schedule.minutes[date.getUTCMinutes()];
}

function oracleFireTimes(schedule: CronSchedule, timeZone: string, from: number, to: number): string[] {
  const fires: string[] = [];
  const seenWalls = new Set<number>();
  let previousWall = wallClock(from - 3 * 60 * MINUTE - MINUTE, timeZone);
  for (let instant = from - 3 * 60 * MINUTE; instant <= to; instant += MINUTE) {
    const wall = wallClock(instant, timeZone);
    let fire: boolean;
    if (!schedule.fixedTime) {
      fire = matchesWall(schedule, wall);
    } else {
      fire = matchesWall(schedule, wall) && !seenWalls.has(wall);
      for (let skipped = previousWall + MINUTE; skipped < wall && !fire; skipped += MINUTE) fire = matchesWall(schedule, skipped);
    }
    seenWalls.add(wall);
    previousWall = wall;
    if (fire && instant > from) fires.push(new Date(instant).toISOString());
  }
  return fires;
}

function implementationFireTimes(schedule: CronSchedule, timeZone: string, from: number, to: number): string[] {
  const fires: string[] = [];
  let cursor = nextFireTime(schedule, new Date(from), timeZone);
  while (cursor && cursor.getTime() <= to) {
    fires.push(cursor.toISOString());
    cursor = nextFireTime(schedule, cursor, timeZone);
  }
  return fires;
}

describe('cron: agreement with a minute-by-minute oracle around DST changes', function () {
  this.timeout(60_000);
  // [zone, window start] with a change inside the 3-day window.
  const windows: Array<[string, string]> = [
    ['Europe/Berlin', '2025-03-29T00:00:00Z'],
    ['Europe/Berlin', '2025-10-25T00:00:00Z'],
    ['America/New_York', '2025-03-08T00:00:00Z'],
    ['America/New_York', '2025-11-01T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-04T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-10-03T00:00:00Z'],
    ['America/Sao_Paulo', '2018-11-03T00:00:00Z'],
    ['America/Sao_Paulo', '2019-02-15T12:00:00Z'],
    ['Pacific/Apia', '2011-12-28T00:00:00Z'],
    ['Asia/Kolkata', '2025-03-29T00:00:00Z'],
    ['UTC', '2024-02-28T00:00:00Z'],
  ];
  const expressions = [
    '30 2 * * *',
    '0,15,30,45 2 * * *',
    '*/20 * * * *',
    '0 * * * *',
    '45 1-3 * * *',
    '0 0 * * *',
    '30 23,0 * * *',
    '*/7 2 * * *',
    '0 */2 * * *',
    '10 2 * * SUN',
    '5 2 29 2 *',
    '0 12 * * *',
  ];
  for (const [timeZone, start] of windows) {
    it(`${timeZone} from ${start}: ${expressions.length} schedules agree`, () => {
      const from = new Date(start).getTime();
      const to = from + 3 * 24 * 60 * MINUTE;
      for (const expression of expressions) {
        const schedule = parseCron(expression);
        const expected = oracleFireTimes(schedule, timeZone, from, to);
        expect(implementationFireTimes(schedule, timeZone, from, to), `${expression} in ${timeZone}`).to.deep.equal(expected);
      }
    });
  }
});

describe('cron: benchmark', () => {
  it('computes 1,000 next fire times quickly (figure printed)', function () {
    this.timeout(30_000);
    const cases: Array<[string, string]> = [
      ['* * * * *', 'UTC'],
      ['*/5 * * * *', 'Europe/Berlin'],
      ['30 2 * * *', 'America/New_York'],
      ['0 9 * * MON-FRI', 'Asia/Kolkata'],
      ['0 0 1 1 *', 'Europe/Berlin'],
      ['0 12 29 2 *', 'America/New_York'],
    ];
    const schedules = cases.map(([expression, timeZone]) => ({ schedule: parseCron(expression), timeZone }));
    const base = new Date('2025-03-01T00:00:00Z').getTime();
    const started = performance.now();
    let found = 0;
    for (let i = 0; i < 1000; i++) {
      const { schedule, timeZone } = schedules[i % schedules.length];
      // Spread reference times over a year so DST changes and cold zone caches are included.
      if (nextFireTime(schedule, new Date(base + i * 8.77 * 60 * 60 * 1000), timeZone)) found++;
    }
    const elapsedMs = performance.now() - started;
    console.log(`      1,000 nextFireTime computations (mixed zones/schedules): ${elapsedMs.toFixed(1)} ms`);
    expect(found).to.equal(1000);
    expect(elapsedMs).to.be.below(5000);
  });
});
