// IP addresses and CIDRs for ipBlock peers: IPv4 and IPv6, bigint arithmetic, IPv4-mapped IPv6 read
// as IPv4 as Go's net package does.
import type { V1IPBlock } from '@kubernetes/client-node';

interface ParsedAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const words: number[] = [];
  const pushGroups = (groups: string[], target: number[]): boolean => {
    for (let index = 0; index < groups.length; index++) {
      const group = groups[index];
      if (group.includes('.')) {
        // An embedded IPv4 address is allowed as the last group only.
        if (index !== groups.length - 1) return false;
        const v4 = parseIPv4(group);
        if (v4 === undefined) return false;
        target.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
        target.push(parseInt(group, 16));
      }
    }
    return true;
  };
  const headWords: number[] = [];
  const tailWords: number[] = [];
  if (!pushGroups(head, headWords) || !pushGroups(tail, tailWords)) return undefined;
  if (halves.length === 1) {
    if (headWords.length !== 8) return undefined;
    words.push(...headWords);
  } else {
    const missing = 8 - headWords.length - tailWords.length;
    if (missing < 1) return undefined;
    words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords);
  }
  return words.reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, like Go's net package. */
export function parseIP(text: string): ParsedAddress | undefined {
  const trimmed = text.trim().replace(/%.*$/, '');
  if (trimmed.includes(':')) {
    const value = parseIPv6(trimmed);
    if (value === undefined) return undefined;
    if (value >> 32n === IPV4_MAPPED_PREFIX >> 32n) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIPv4(trimmed);
  return value === undefined ? undefined : { family: 4, value };
}

interface ParsedCidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

export function parseCIDR(text: string): ParsedCidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = Number(prefixText);
  // An IPv4-mapped IPv6 CIDR (::ffff:10.0.0.0/104) becomes an IPv4 one.
  if (address.family === 4 && text.slice(0, slash).includes(':')) prefix -= 96;
  const bits = address.family === 4 ? 32 : 128;
  if (prefix < 0 || prefix > bits) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family: address.family, network: address.value & mask, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const network = parseCIDR(cidr);
  const address = parseIP(ip);
  if (!network || !address || network.family !== address.family) return false;
  const bits = network.family === 4 ? 32 : 128;
  const shift = BigInt(bits - network.prefix);
  return address.value >> shift === network.network >> shift;
}

/** In cidr and in none of the except ranges. */
export function ipBlockContains(ipBlock: V1IPBlock, ip: string): boolean {
  return cidrContains(ipBlock.cidr, ip) && !(ipBlock.except ?? []).some((excepted) => cidrContains(excepted, ip));
}
