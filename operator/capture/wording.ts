// Shared wording for verdict messages: counts with units, endpoints, durations.

import { hostPort } from '../util/text.ts';
import type { Endpoint } from './model.ts';

export function seconds(value: number): string {
  return `${Math.max(0, value).toFixed(1)} s`;
}

export function endpointText(endpoint: Endpoint): string {
  return hostPort(endpoint.ip, endpoint.port);
}

export function describeServers(endpoints: string[]): string {
  const unique = [...new Set(endpoints)];
  return unique.length > 1 ? `${unique[0]} (and ${unique.length - 1} more)` : (unique[0] ?? 'the target');
}
