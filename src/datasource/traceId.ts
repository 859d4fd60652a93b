/**
 * W3C traceparent: version, trace id, parent (span) id and flags, lower-case hex joined by dashes
 * (https://www.w3.org/TR/trace-context/#traceparent-header).
 */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The trace id in text as people copy it, as the 32 lower-case hex digits the backend and the trace view use; or
 * undefined when text is not a trace id. Accepted: 32 hex digits, or 16 (a 64-bit id, as older tracers and Jaeger
 * print them; padded with zeros as pkg/plugin/query.go does), in any case, with dashes or spaces between groups (a
 * UUID), with a `0x` prefix or quotes around; and a W3C traceparent, with or without its `traceparent:` header name.
 * An id of all zeros is invalid in W3C trace context and rejected.
 */
export function normalizeTraceId(text: string): string | undefined {
  let s = text
    .trim()
    .toLowerCase()
    .replace(/^traceparent\s*[:=]\s*/, '')
    .replace(/^["'`]+|["'`]+$/g, '')
    .trim();
  const traceparent = TRACEPARENT.exec(s);
  if (traceparent) {
    return nonZero(traceparent[1]);
  }
  s = s.replace(/^0x/, '').replace(/[\s-]+/g, '');
  if (!/^[0-9a-f]+$/.test(s) || (s.length !== 32 && s.length !== 16)) {
    return undefined;
  }
  return nonZero(s.padStart(32, '0'));
}

function nonZero(id: string): string | undefined {
  return /^0+$/.test(id) ? undefined : id;
}
