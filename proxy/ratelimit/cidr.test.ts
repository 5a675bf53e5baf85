import { describe, expect, it } from 'vitest';
import { canonicalIp, cidrContains, parseCidr, parseIp } from './cidr.ts';

const contains = (cidr: string, ip: string) => cidrContains(parseCidr(cidr)!, parseIp(ip)!);

describe('cidr', () => {
  it('matches IPv4 prefixes, including /0 and /32', () => {
    expect(contains('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('192.168.1.7/32', '192.168.1.7')).toBe(true);
    expect(contains('192.168.1.7/32', '192.168.1.8')).toBe(false);
    expect(contains('172.16.0.0/12', '172.31.255.255')).toBe(true);
    expect(contains('172.16.0.0/12', '172.32.0.0')).toBe(false);
  });

  it('matches IPv6 prefixes and keeps families apart', () => {
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains('2001:db8:0:1::/64', '2001:db8:0:1:ffff::5')).toBe(true);
    expect(contains('2001:db8:0:1::/64', '2001:db8::1:0:0:5')).toBe(false); // that is 2001:db8:0:0:1::5
    expect(contains('::/0', '10.0.0.1')).toBe(false);
    expect(contains('0.0.0.0/0', '::1')).toBe(false);
  });

  it('treats IPv4-mapped IPv6 (dual-stack sockets) as IPv4', () => {
    expect(contains('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '10.9.9.9')).toBe(true);
    expect(canonicalIp(parseIp('::ffff:10.1.2.3')!)).toBe('10.1.2.3');
  });

  it('gives one spelling per address', () => {
    expect(canonicalIp(parseIp('2001:DB8::1')!)).toBe(canonicalIp(parseIp('2001:db8:0:0:0:0:0:1')!));
    expect(canonicalIp(parseIp('fe80::1%eth0')!)).toBe(canonicalIp(parseIp('fe80::1')!));
  });

  it('rejects what is not a CIDR', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '::/129', 'nope/8', '10.0.0.0/-1', '10.0.0.0/8x', '']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
    expect(parseIp('not-an-ip')).toBeUndefined();
  });
});

describe('parseIp fast IPv4 path', () => {
  it('agrees with node:net on what is an IPv4 address', () => {
    const good = ['0.0.0.0', '255.255.255.255', '10.1.2.3', '192.168.0.10'];
    const bad = [
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1..2.3',
      '1.2.3.',
      '.1.2.3',
      '1.2.3.4 ',
      'a.b.c.d',
      '1.2.3.1000',
    ];
    for (const ip of good) expect(parseIp(ip), ip).toEqual({ family: 4, words: [expect.any(Number)] });
    for (const ip of bad) expect(parseIp(ip), ip).toBeUndefined();
    expect(canonicalIp(parseIp('255.255.255.255')!)).toBe('255.255.255.255');
    expect(canonicalIp(parseIp('10.1.2.3')!)).toBe('10.1.2.3');
  });
});
