/**
 * Unit tests of the error-to-close-code table: each way a frame can be refused
 * closes with the code SPEC.md's close-code table gives it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { CLOSE_CODES, PROTOCOL_ERROR_CLOSE_CODES } from './close-codes';
import { decode, readAwarenessEntries } from './codec';
import { PROTOCOL_ERROR_REASONS, ProtocolError, type ProtocolErrorReason } from './errors';
import { MESSAGE_TAGS } from './messages';

function reasonOf(run: () => unknown): ProtocolErrorReason {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

/** The rows of SPEC.md's close-code table, as code → description. */
function specCloseCodes(): Map<number, string> {
  const spec = readFileSync(new URL('./SPEC.md', import.meta.url), 'utf8');
  const section = spec.slice(spec.indexOf('## Close codes'));
  const rows = new Map<number, string>();
  for (const match of section.matchAll(/^\| (\d{4}) \| (.+) \|$/gm)) rows.set(Number(match[1]), match[2] ?? '');
  return rows;
}

describe('PROTOCOL_ERROR_CLOSE_CODES', () => {
  it('closes a malformed frame with 1002, an unknown or forbidden type with 1003, a broken rule with 1008', () => {
    const truncated = reasonOf(() => decode(Uint8Array.of(MESSAGE_TAGS.sync, 0x80)));
    const unknownType = reasonOf(() => decode(Uint8Array.of(42)));
    const tooManyEntries = reasonOf(() => readAwarenessEntries(Uint8Array.of(3), { maxEntries: 2 }));

    expect(PROTOCOL_ERROR_CLOSE_CODES[truncated]).toBe(CLOSE_CODES.protocolError);
    expect(PROTOCOL_ERROR_CLOSE_CODES[unknownType]).toBe(CLOSE_CODES.unsupportedData);
    expect(PROTOCOL_ERROR_CLOSE_CODES[tooManyEntries]).toBe(CLOSE_CODES.policyViolation);
  });

  it('maps every reason to a distinct close code that SPEC.md documents', () => {
    const reasons = Object.values(PROTOCOL_ERROR_REASONS);
    const codes = reasons.map((reason) => PROTOCOL_ERROR_CLOSE_CODES[reason]);
    expect(new Set(codes).size).toBe(reasons.length);
    const documented = specCloseCodes();
    for (const code of codes) expect(documented.has(code), `close code ${code} in SPEC.md`).toBe(true);
  });
});
