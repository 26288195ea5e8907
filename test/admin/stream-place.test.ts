import { describe, expect, it } from 'vitest';
import { formatPlace, lastEventId, parsePlace } from '../../src/admin/internal/stream-place.js';

describe('an event stream place (the id: of the anomaly stream)', () => {
  it('round-trips one processor or several, whatever their ids hold', () => {
    for (const place of [
      new Map([['anomaly', 1768219200000001]]),
      new Map([
        ['anomaly', 1768219200000001],
        ['anomaly/edge & co=1', 1768219200000000],
      ]),
    ]) {
      expect(parsePlace(formatPlace(place))).toEqual(place);
    }
    expect(formatPlace(new Map([['anomaly/edge', 5]]))).toBe('anomaly%2Fedge=5');
  });

  it.each([
    ['', 'empty'],
    ['garbage', 'no number'],
    ['anomaly=-1', 'a negative number'],
    ['anomaly=1e5', 'not digits'],
    ['anomaly=12345678901234567', 'beyond 2^53'],
    ['anomaly=1&anomaly=2', 'a processor twice'],
    ['4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', "an older release's anomaly id"],
  ])('reads %j as no place (%s)', (text) => {
    expect(parsePlace(text)).toBeUndefined();
  });

  it.each([
    [undefined, undefined, undefined],
    ['anomaly=2', undefined, 'anomaly=2'],
    [undefined, 'anomaly=1', 'anomaly=1'],
    ['anomaly=2', 'anomaly=1', 'anomaly=2'], // an EventSource reconnecting to the URL: the header is newer
    [['anomaly=3', 'anomaly=4'], undefined, 'anomaly=3'],
    ['  ', 'anomaly=1', 'anomaly=1'],
    [' ', ' ', undefined],
  ])('takes Last-Event-ID %j and last_event_id %j as %j', (header, query, want) => {
    expect(lastEventId(header, query)).toBe(want);
  });
});
