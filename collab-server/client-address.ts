/**
 * Who a request comes from, for per-client budgets. `X-Forwarded-For` is read
 * only from the trusted proxies (`COLLAB_TRUSTED_PROXIES`), walking from the
 * nearest hop outwards, as Express does (proxy-addr): anyone else could write
 * any address there and dodge every limit. IPv6 clients are keyed by their /64,
 * the smallest block an ISP hands one subscriber, so one person cannot mint
 * fresh addresses to reset their budget.
 */
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

/** Resolves a request to the key its budgets are counted under: an IPv4 address or an IPv6 /64. */
export type ClientKeyResolver = (request: IncomingMessage) => string;

/** True for `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or an IPv6 block. */
export function isValidCidr(cidr: string): boolean {
  try {
    if (cidr.includes('/')) ipaddr.parseCIDR(cidr);
    else ipaddr.parse(cidr);
    return true;
  } catch {
    return false;
  }
}

/** Builds the resolver for a list of trusted proxy CIDRs (empty: trust no header). */
export function createClientKeyResolver(trustedProxies: readonly string[]): ClientKeyResolver {
  const isTrusted = trustedProxies.length > 0 ? proxyAddr.compile([...trustedProxies]) : null;
  return (request) => {
    const peer = request.socket.remoteAddress ?? '';
    const address = isTrusted ? proxyAddr(request, isTrusted) : peer;
    // A trusted proxy that passed on something that is not an address: count it against that proxy.
    return budgetKeyOf(ipaddr.isValid(address) ? address : peer);
  };
}

/** The budget key of one address: IPv4 as is (IPv4-mapped IPv6 included), IPv6 as its /64. */
export function budgetKeyOf(address: string): string {
  if (!ipaddr.isValid(address)) return 'unknown';
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const groups = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${groups.join(':')}::/64`;
}
