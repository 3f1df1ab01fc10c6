/**
 * Connection counting behind `maxConnections` (503) and `maxConnectionsPerIp` (429). A slot is taken when
 * a handshake passes the check and given back when that handshake fails or its connection closes.
 * @module
 */

/** Why a new connection is refused, or `null`. */
export type LimitVerdict = 503 | 429 | null;

/** Counts open and upgrading connections, in total and per remote address. */
export class ConnectionLimits {
  private readonly maxTotal: number;
  private readonly maxPerIp: number;
  private total = 0;
  /** Only maintained when a per-IP limit is set. */
  private readonly perIp = new Map<string, number>();

  constructor(maxTotal: number, maxPerIp: number) {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /** Open or upgrading connections. */
  get count(): number {
    return this.total;
  }

  /** Takes a slot for `address`, or tells which limit refuses it. */
  acquire(address: string): LimitVerdict {
    if (this.total >= this.maxTotal) return 503;
    if (this.maxPerIp !== Number.POSITIVE_INFINITY) {
      const used = this.perIp.get(address) ?? 0;
      if (used >= this.maxPerIp) return 429;
      this.perIp.set(address, used + 1);
    }
    this.total++;
    return null;
  }

  /** Gives back a slot taken by {@link acquire}. */
  release(address: string): void {
    this.total--;
    if (this.maxPerIp === Number.POSITIVE_INFINITY) return;
    const used = this.perIp.get(address) ?? 0;
    if (used <= 1) this.perIp.delete(address);
    else this.perIp.set(address, used - 1);
  }
}
