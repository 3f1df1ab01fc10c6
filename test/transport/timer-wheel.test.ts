import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TimerWheel, UNSCHEDULED, type WheelEntry } from '../../src/transport/timer-wheel.js';

class Entry implements WheelEntry {
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  firedAt: number[] = [];
  /** `clock.now` is read when the entry fires: pass the wheel itself to record tick times. */
  constructor(
    private readonly clock: { now: number },
    private readonly action?: () => void,
  ) {}
  onTimeout(): void {
    this.firedAt.push(this.clock.now);
    this.action?.();
  }
}

function manualWheel(resolution: number, slots: number) {
  const clock = { now: 0 };
  const wheel = new TimerWheel({ resolution, slots, clock: () => clock.now, manual: true });
  const advanceTo = (time: number): void => {
    clock.now = time;
    wheel.advance();
  };
  return { clock, wheel, advanceTo };
}

describe('TimerWheel', () => {
  it('fires an entry at or after its deadline, at most one resolution late', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 99 }), (delay, offset) => {
        const { wheel, advanceTo } = manualWheel(100, 8);
        advanceTo(offset); // schedule between two ticks
        const entry = new Entry(wheel);
        wheel.schedule(entry, delay);
        for (let t = offset; t <= offset + delay + 300 && entry.firedAt.length === 0; t += 10) advanceTo(t);
        assert.equal(entry.firedAt.length, 1);
        const firedAt = entry.firedAt[0]!;
        assert.ok(firedAt >= offset + delay, `fired at ${firedAt}, deadline ${offset + delay}`);
        assert.ok(firedAt <= offset + delay + 100, `fired at ${firedAt}, deadline ${offset + delay}`);
        assert.equal(wheel.size, 0);
      }),
    );
  });

  it('handles deadlines beyond one turn of the wheel (rounds)', () => {
    const { clock, wheel, advanceTo } = manualWheel(10, 4);
    const entry = new Entry(clock);
    wheel.schedule(entry, 125); // three turns and a bit
    advanceTo(120);
    assert.equal(entry.firedAt.length, 0);
    advanceTo(130);
    assert.equal(entry.firedAt.length, 1);
  });

  it('cancels and reschedules in O(1), and catches up after a blocked event loop', () => {
    const { clock, wheel, advanceTo } = manualWheel(10, 16);
    const a = new Entry(clock);
    const b = new Entry(clock);
    const c = new Entry(clock);
    wheel.schedule(a, 50);
    wheel.schedule(b, 50);
    wheel.schedule(c, 50);
    wheel.cancel(b);
    assert.equal(wheel.isScheduled(b), false);
    wheel.schedule(c, 200); // replaces its deadline
    assert.equal(wheel.size, 2);
    advanceTo(1000); // one late jump runs every tick in between
    assert.equal(a.firedAt.length, 1);
    assert.equal(b.firedAt.length, 0);
    assert.equal(c.firedAt.length, 1);
  });

  it('lets a callback cancel or reschedule entries due in the same tick', () => {
    const { clock, wheel, advanceTo } = manualWheel(10, 16);
    const victim = new Entry(clock);
    const rescheduled = new Entry(clock);
    const killer = new Entry(clock, () => {
      wheel.cancel(victim);
      wheel.schedule(rescheduled, 100);
    });
    wheel.schedule(victim, 20);
    wheel.schedule(rescheduled, 20);
    wheel.schedule(killer, 20); // inserted last, so it is run first
    advanceTo(20);
    assert.equal(killer.firedAt.length, 1);
    assert.equal(victim.firedAt.length, 0);
    assert.equal(rescheduled.firedAt.length, 0);
    advanceTo(130);
    assert.equal(rescheduled.firedAt.length, 1);
    assert.equal(victim.firedAt.length, 0);
  });

  it('runs on a real unref-ed interval and stops when empty', async () => {
    // The wheel's interval never keeps the process alive: this test keeps it alive itself.
    const keepAlive = setTimeout(() => {}, 5000);
    const wheel = new TimerWheel({ resolution: 5 });
    const fired = new Promise<number>((resolve) => {
      const started = performance.now();
      const entry = new Entry({ now: 0 }, () => resolve(performance.now() - started));
      wheel.schedule(entry, 20);
    });
    const elapsed = await fired;
    clearTimeout(keepAlive);
    assert.ok(elapsed >= 19, `fired after ${elapsed} ms`);
    assert.equal(wheel.size, 0);
  });
});
