/**
 * Bounded, resumable sweeping of a map: each run visits at most a fixed number of entries and the next run
 * goes on where the previous one stopped. A sweep of a million topics then never blocks the event loop for
 * long; it spreads over several timer ticks instead.
 * @module
 */

/** Visits a map's entries a batch at a time, round after round. */
export class IncrementalSweep<K, V> {
  private cursor: Iterator<[K, V]> | null = null;

  /**
   * @param map - the map to sweep; `visit` may delete the entry it is given (Map iterators stay valid
   *   across deletions, and entries added meanwhile are visited later in the same round or the next).
   * @param visit - called once per visited entry.
   */
  constructor(
    private readonly map: Map<K, V>,
    private readonly visit: (key: K, value: V) => void,
  ) {}

  /** Visits up to `budget` entries; returns how many were visited. */
  run(budget: number): number {
    let visited = 0;
    // A fresh round starts at most once per run, so an empty or small map costs one pass.
    let restarted = this.cursor === null;
    this.cursor ??= this.map.entries();
    while (visited < budget) {
      const step = this.cursor.next();
      if (step.done === true) {
        if (restarted) {
          this.cursor = null;
          break;
        }
        this.cursor = this.map.entries();
        restarted = true;
        continue;
      }
      this.visit(step.value[0], step.value[1]);
      visited++;
    }
    return visited;
  }
}
