/**
 * How a share-link token reaches the relay without appearing in any URL:
 * browsers let a page set one header on a WebSocket handshake,
 * `Sec-WebSocket-Protocol`. The page offers two subprotocols, `inkwell` and
 * `inkwell.token.<token>`; the relay reads the token from the second and
 * selects the first, so the token is never echoed back. Tokens are base64url
 * and dots, all valid in a subprotocol name.
 */

/** The subprotocol the relay selects. */
export const INKWELL_SUBPROTOCOL = 'inkwell';

const TOKEN_PREFIX = `${INKWELL_SUBPROTOCOL}.token.`;

/** The subprotocols a browser offers to open a document with `token`. */
export function socketProtocolsFor(token: string): string[] {
  return [INKWELL_SUBPROTOCOL, `${TOKEN_PREFIX}${token}`];
}

/** The token offered in a `Sec-WebSocket-Protocol` header, or null when none is. */
export function tokenFromProtocolsHeader(header: string | undefined): string | null {
  if (!header) return null;
  for (const offered of header.split(',')) {
    const protocol = offered.trim();
    if (protocol.startsWith(TOKEN_PREFIX)) return protocol.slice(TOKEN_PREFIX.length) || null;
  }
  return null;
}
