import { describeDay, describeMoment, describePeriod, utcOffsetOf } from '../../dialogs/answers/adminClock';
import { pickImport, type ImportChoice } from '../../dialogs/answers/importChoice';

describe('utcOffsetOf', () => {
  it.each<[Record<string, unknown>, number]>([
    [{ localTimestamp: '2030-03-10T13:00:00.000+01:00' }, 60],
    [{ rawLocalTimestamp: '2030-03-10T07:30:00.000-04:30' }, -270],
    [{ localTimestamp: '2030-03-10T12:00:00Z' }, 0],
    [{ localTimezone: 'Asia/Kolkata' }, 330],
    [{ localTimezone: 'Not/AZone' }, 0],
    [{}, 0],
  ])('reads %j as %d minutes', (activity, expected) => {
    expect(utcOffsetOf(activity, new Date('2030-03-10T12:00:00Z'))).toBe(expected);
  });
});

describe('describing dates in the admin’s time zone', () => {
  const now = new Date('2030-03-10T23:30:00Z');
  it('says today and yesterday by the admin’s calendar', () => {
    expect(describeDay(new Date('2030-03-10T01:00:00Z'), now, 0)).toBe('today');
    // At UTC+1 it is already March 11 for the admin: March 10 is yesterday.
    expect(describeDay(new Date('2030-03-10T01:00:00Z'), now, 60)).toBe('yesterday');
    expect(describeDay(new Date('2030-03-02T12:00:00Z'), now, 0)).toBe('Mar 2');
    expect(describeDay(new Date('2029-12-31T12:00:00Z'), now, 0)).toBe('Dec 31, 2029');
    expect(describeMoment(new Date('2030-03-10T21:05:00Z'), now, -60)).toBe('today 20:05');
  });

  it('names periods', () => {
    const day = (d: string) => new Date(d);
    expect(describePeriod(day('2030-03-03T00:00:00Z'), undefined, now, 0)).toBe('since Mar 3');
    expect(describePeriod(undefined, day('2030-03-03T23:59:59Z'), now, 0)).toBe('until Mar 3');
    expect(describePeriod(day('2030-03-03T00:00:00Z'), day('2030-03-08T23:59:59Z'), now, 0)).toBe(
      'from Mar 3 to Mar 8',
    );
    expect(describePeriod(day('2030-03-04T00:00:00Z'), day('2030-03-04T23:59:59Z'), now, 0)).toBe('on Mar 4');
    expect(describePeriod(undefined, undefined, now, 0)).toBe('');
  });
});

describe('pickImport', () => {
  const candidates: ImportChoice[] = [
    { importId: 'imp_ccc111', number: 12, fileName: 'users.csv' },
    { importId: 'imp_bbb222', number: 11, fileName: 'staff.txt' },
  ];
  it.each<[string, unknown, string | undefined]>([
    ['#11', undefined, 'imp_bbb222'],
    ['11', undefined, 'imp_bbb222'],
    ['import 12', undefined, 'imp_ccc111'],
    ['the second one', undefined, 'imp_bbb222'],
    ['First', undefined, 'imp_ccc111'],
    ['latest', undefined, 'imp_ccc111'],
    ['staff.txt', undefined, 'imp_bbb222'],
    ['imp_bbb222', undefined, 'imp_bbb222'],
    ['', { action: 'chooseImport', importId: 'imp_ccc111' }, 'imp_ccc111'],
    ['#10', undefined, undefined],
    ['the third one', undefined, undefined],
    ['', { action: 'chooseImport', importId: 'imp_other' }, undefined],
    ['yesterday', undefined, undefined],
  ])('%s %j', (text, value, expected) => {
    expect(pickImport(text, value, candidates)?.importId).toBe(expected);
  });
});
