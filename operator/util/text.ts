// Wording helpers every floor shares (diagnosis, capture, controller): counts with their noun, lists
// that stay short, messages cut to the size a status field allows. Dependency-free, so any module may
// import it: this folder is the bottom floor (controller -> diagnosis -> probe -> capture -> api -> util).

/** The text itself when it fits, else its start and the ellipsis, `max` characters in all. */
export function clip(text: string, max: number, ellipsis = '…'): string {
  return text.length <= max ? text : `${text.slice(0, max - ellipsis.length)}${ellipsis}`;
}

/** "1 query", "3 queries". */
export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

/** "a", "a and b", "a, b and c", "a, b, c, d and 2 more". */
export function listText(items: readonly string[], max = 4): string {
  if (items.length === 0) return 'none';
  if (items.length <= max) return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** The items in first-seen order, each once. */
export function uniq<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** "10.0.0.1:80", "[fd00::1]:80". */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The text with a full stop, unless it already ends a sentence. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

export function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
