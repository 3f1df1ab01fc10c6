/**
 * Short, unique connection ids for logs and metrics: a process-random prefix (so that ids from several
 * processes or restarts do not collide in one log stream) followed by a base36 sequence number.
 * @module
 */
import { randomBytes } from 'node:crypto';

/** Four base36 characters chosen once per process. */
const PREFIX = (randomBytes(3).readUIntBE(0, 3) % 36 ** 4).toString(36).padStart(4, '0');
let sequence = 0;

/**
 * Takes the next connection sequence number. Connections keep this number (8 bytes) and format the id only
 * when it is read, see {@link formatConnectionId}.
 */
export function nextConnectionSeq(): number {
  sequence++;
  return sequence;
}

/** The id of sequence number `seq`, e.g. `k3f9-1z`: the same string every time for the same number. */
export function formatConnectionId(seq: number): string {
  return `${PREFIX}-${seq.toString(36)}`;
}
