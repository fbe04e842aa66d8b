/** Why a frame was refused; each reason maps to one close code in `close-codes.ts`. */
export const PROTOCOL_ERROR_REASONS = {
  malformed: 'malformed',
  unknownMessage: 'unknown-message',
} as const;
export type ProtocolErrorReason = (typeof PROTOCOL_ERROR_REASONS)[keyof typeof PROTOCOL_ERROR_REASONS];

/** Thrown by `decode` for frames that are not valid protocol messages. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorReason;

  constructor(code: ProtocolErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
