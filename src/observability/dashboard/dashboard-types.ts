/**
 * The dashboard feed's wire format: one JSON {@link DashboardSnapshot} per interval. The page renders
 * whatever sections a snapshot holds, by kind, so every listener that serves it (`conduit serve`, the
 * gateway's admin port) feeds the same page with its own sections. Types only: shared by the Node side
 * that builds snapshots and the browser side that draws them.
 * @module
 */

/** How a stat's value is shown: counts, per-second rates, bytes, milliseconds, percent, or plain text. */
export type StatFormat = 'count' | 'rate' | 'bytes' | 'byteRate' | 'ms' | 'percent' | 'text';

/** A stat's or a row's health, drawn as a colour and a word (never colour alone). */
export type Health = 'ok' | 'warn' | 'bad';

/** One number (or word) of a `stats` section. */
export interface DashboardStat {
  /** Stable within its section (the page keeps its element, and tests find it by `data-stat`). */
  id: string;
  label: string;
  value: number | string;
  format: StatFormat;
  /** Recent values, oldest first, one per interval (drawn as a sparkline). */
  series?: number[];
  health?: Health;
  /** A short explanation shown under the value. */
  hint?: string;
}

interface SectionBase {
  /** Stable across snapshots: the page updates the section's element in place. */
  id: string;
  title: string;
  /** A sentence under the title (what the numbers cover). */
  note?: string;
}

/** Cards of numbers, each with an optional sparkline. */
export interface StatsSection extends SectionBase {
  kind: 'stats';
  stats: DashboardStat[];
}

/** A table; a cell that is a number is right-aligned and formatted as a count. */
export interface TableSection extends SectionBase {
  kind: 'table';
  columns: string[];
  rows: (string | number)[][];
  /** Shown instead of an empty table. */
  empty: string;
}

/** One event of an `events` section. */
export interface DashboardEvent {
  /** Milliseconds since the Unix epoch. */
  time: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** A list of recent events, newest first. */
export interface EventsSection extends SectionBase {
  kind: 'events';
  events: DashboardEvent[];
  empty: string;
}

/** A section of the dashboard. */
export type DashboardSection = StatsSection | TableSection | EventsSection;

/** What the feed sends every interval. */
export interface DashboardSnapshot {
  /** Format version: a page ignores snapshots of a version it does not know. */
  version: 1;
  title: string;
  /** One line under the title (process, engine, uptime). */
  subtitle: string;
  /** A caveat shown prominently (e.g. cluster mode: one worker's numbers). */
  notice?: string;
  /** When the snapshot was taken, in ms since the Unix epoch. */
  time: number;
  /** Time between snapshots, in ms (the sparklines' step). */
  intervalMs: number;
  sections: DashboardSection[];
}
