/** Why a frame was refused; each reason maps to one close code in `close-codes.ts`. */
export const PROTOCOL_ERROR_REASONS = {
  malformed: 'malformed',
  unknownMessage: 'unknown-message',
  /** Well formed, but over a limit or against a rule of the relay's (close 1008). */
  policyViolation: 'policy-violation',
} as const;
export type ProtocolErrorReason = (typeof PROTOCOL_ERROR_REASONS)[keyof typeof PROTOCOL_ERROR_REASONS];

/** Thrown for frames that are not valid protocol messages, or that break a rule of the relay's. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorReason;

  constructor(code: ProtocolErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
