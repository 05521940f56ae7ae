// Where a command writes, and how: stdout for results, stderr for errors and notes, one Style.
import type { Style } from './style.ts';

export interface Io {
  readonly style: Style;
  out(line: string): void;
  err(line: string): void;
  /** Writes raw bytes to stdout (pcap -o -). */
  raw(data: Uint8Array): void;
  readonly now: () => Date;
}
