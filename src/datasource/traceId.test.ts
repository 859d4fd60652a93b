import { normalizeTraceId } from './traceId';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('normalizeTraceId', () => {
  it.each([
    ['32 hex digits', ID],
    ['upper case', ID.toUpperCase()],
    ['spaces around', `  ${ID}\n`],
    ['a 0x prefix', `0x${ID}`],
    ['UUID dashes', '4bf92f35-77b3-4da6-a3ce-929d0e0e4736'],
    ['spaces between groups', '4bf92f35 77b34da6 a3ce929d 0e0e4736'],
    ['quotes from JSON', `"${ID}"`],
    ['a W3C traceparent', `00-${ID}-00f067aa0ba902b7-01`],
    ['a traceparent header', `traceparent: 00-${ID}-00f067aa0ba902b7-00`],
    ['an upper-case traceparent', `00-${ID.toUpperCase()}-00F067AA0BA902B7-01`],
  ])('reads %s', (_, text) => {
    expect(normalizeTraceId(text)).toBe(ID);
  });

  it('pads a 64-bit id to 32 digits, as the backend does', () => {
    expect(normalizeTraceId('a3ce929d0e0e4736')).toBe('0000000000000000a3ce929d0e0e4736');
    expect(normalizeTraceId('0xA3CE929D0E0E4736')).toBe('0000000000000000a3ce929d0e0e4736');
    expect(normalizeTraceId('a3ce929d-0e0e-4736')).toBe('0000000000000000a3ce929d0e0e4736');
  });

  it.each([
    ['empty', ''],
    ['a path', '/api/cart'],
    ['a path holding an id', `/trace/${ID}`],
    ['too short', ID.slice(0, 31)],
    ['too long', `${ID}0`],
    ['between 16 and 32 digits', ID.slice(0, 20)],
    ['not hex', `${ID.slice(0, 31)}g`],
    ['all zeros', '0'.repeat(32)],
    ['a traceparent with a zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['a traceparent with a short span id', `00-${ID}-00f067aa0ba902-01`],
    ['a duration', '250ms'],
    ['a template variable', '$traceId'],
  ])('rejects %s', (_, text) => {
    expect(normalizeTraceId(text)).toBeUndefined();
  });
});
