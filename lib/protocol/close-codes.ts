import type { ProtocolErrorReason } from './errors';

/**
 * WebSocket close codes the relay uses, each with the reason text it sends.
 * Codes 1000–1015 are RFC 6455; 4000–4999 are Inkwell's own. See SPEC.md.
 */
export const CLOSE_CODES = {
  /** Relay shutting down or the room going away. */
  goingAway: 1001,
  /** A frame could not be decoded (truncated, trailing bytes, bad Yjs update). */
  protocolError: 1002,
  /** A message type the relay does not accept, or a text frame. */
  unsupportedData: 1003,
  /**
   * The client broke a rule of the relay's: over its message budget, repeated
   * invalid awareness, an unfinished message held open. Stock clients reconnect.
   */
  policyViolation: 1008,
  /** A frame larger than the configured maximum message size. */
  messageTooBig: 1009,
  /** Something failed inside the relay; the client should retry. */
  internalError: 1011,
  /**
   * The relay cannot take more changes now (storage is failing and the room holds
   * as much unsaved as it may); the client keeps its changes and retries later.
   */
  tryAgainLater: 1013,
  /**
   * The room reloads its document from storage (an update that decoded could not
   * be integrated, and may have left the in-memory copy half-changed); reconnect.
   */
  serviceRestart: 1012,
  /** The client did not read fast enough; its send buffer passed the cap. */
  slowConsumer: 4008,
  /**
   * The document's links were reset; the link that opened this session no longer
   * works. In 4400–4499, which stock clients treat as final (no reconnect).
   */
  linkReset: 4403,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/**
 * The close code for each reason a frame is refused: the one place that choice
 * is made, so the relay's transport edge looks it up instead of deciding.
 */
export const PROTOCOL_ERROR_CLOSE_CODES: Readonly<Record<ProtocolErrorReason, CloseCode>> = {
  malformed: CLOSE_CODES.protocolError,
  'unknown-message': CLOSE_CODES.unsupportedData,
  'policy-violation': CLOSE_CODES.policyViolation,
};
