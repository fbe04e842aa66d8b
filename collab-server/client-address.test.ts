import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';

import { budgetKeyOf, createClientKeyResolver, isValidCidr } from './client-address';

function request(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    connection: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('budgetKeyOf', () => {
  it('keys IPv4 by address, and IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(budgetKeyOf('203.0.113.7')).toBe('203.0.113.7');
    expect(budgetKeyOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys IPv6 by its /64, however the address is written', () => {
    const key = budgetKeyOf('2001:db8:1:2:aaaa::1');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(budgetKeyOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(key);
    expect(budgetKeyOf('2001:db8:1:3::1')).not.toBe(key);
  });

  it('keys anything that is not an address as one shared "unknown"', () => {
    expect(budgetKeyOf('')).toBe('unknown');
    expect(budgetKeyOf('not-an-ip')).toBe('unknown');
  });
});

describe('createClientKeyResolver', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    const resolve = createClientKeyResolver([]);
    expect(resolve(request('198.51.100.1', '203.0.113.9'))).toBe('198.51.100.1');
  });

  it('honours X-Forwarded-For only from a trusted proxy', () => {
    const resolve = createClientKeyResolver(['10.0.0.0/8']);
    expect(resolve(request('10.1.2.3', '203.0.113.9'))).toBe('203.0.113.9');
    expect(resolve(request('198.51.100.1', '203.0.113.9'))).toBe('198.51.100.1');
  });

  it('takes the nearest untrusted hop, so a client cannot choose its address by writing the header', () => {
    const resolve = createClientKeyResolver(['10.0.0.0/8']);
    // The client wrote "1.1.1.1"; the proxy appended the address it saw.
    expect(resolve(request('10.0.0.1', '1.1.1.1, 203.0.113.9'))).toBe('203.0.113.9');
    // Through two trusted proxies.
    expect(resolve(request('10.0.0.1', '1.1.1.1, 203.0.113.9, 10.0.0.2'))).toBe('203.0.113.9');
  });

  it('counts garbage passed on by a trusted proxy against that proxy', () => {
    const resolve = createClientKeyResolver(['10.0.0.0/8']);
    expect(resolve(request('10.0.0.1', 'garbage'))).toBe('10.0.0.1');
  });

  it('groups forwarded IPv6 clients by /64', () => {
    const resolve = createClientKeyResolver(['::1/128']);
    expect(resolve(request('::1', '2001:db8:5:6::1'))).toBe(resolve(request('::1', '2001:db8:5:6:ffff::2')));
  });
});

describe('isValidCidr', () => {
  it.each(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'])('accepts %s', (cidr) => expect(isValidCidr(cidr)).toBe(true));
  it.each(['10.0.0.0/33', 'example.com', '', '10.0.0/8'])('refuses %s', (cidr) => expect(isValidCidr(cidr)).toBe(false));
});
