/**
 * Draws dashboard snapshots (browser code). Generic by design: each section is drawn by its `kind`
 * (stats, table, events), whatever its id, so every listener feeds the same page with its own
 * sections. Elements are kept across snapshots and updated in place (no flicker, focus and scroll stay).
 * @module
 */
import type {
  DashboardSection,
  DashboardSnapshot,
  DashboardStat,
  EventsSection,
  StatsSection,
  TableSection,
} from './dashboard-types.js';
import { el } from './dom.js';
import { formatClock, formatNumber, formatValue } from './format.js';
import { drawSparkline } from './sparkline.js';

/** A section's element and the kind it was built for (a kind change rebuilds it). */
interface SectionView {
  kind: DashboardSection['kind'];
  element: HTMLElement;
  body: HTMLElement;
}

/** A string safe inside an id attribute. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

function statElement(container: HTMLElement, stat: DashboardStat): HTMLElement {
  const found = [...container.children].find((child) => (child as HTMLElement).dataset.stat === stat.id);
  if (found !== undefined) return found as HTMLElement;
  const created = el(
    'figure',
    { class: 'stat', 'data-stat': stat.id },
    el('figcaption', { class: 'label' }),
    el('span', { class: 'value' }),
    el('span', { class: 'hint' }),
  );
  container.append(created);
  return created;
}

function sparkLabel(stat: DashboardStat, series: number[], seconds: number): string {
  const min = Math.min(...series);
  const max = Math.max(...series);
  const range = `${formatValue(min, stat.format)} to ${formatValue(max, stat.format)}`;
  return `${stat.label}, last ${seconds} s: ${range}`;
}

function drawStat(element: HTMLElement, stat: DashboardStat, slots: number, seconds: number): void {
  element.querySelector('.label')!.textContent = stat.label;
  element.querySelector('.value')!.textContent = formatValue(stat.value, stat.format);
  const hint = element.querySelector<HTMLElement>('.hint')!;
  // Health is said in words too, not by colour alone.
  const alarm = stat.health === 'bad' ? 'critical' : stat.health === 'warn' ? 'elevated' : '';
  hint.textContent = [alarm, stat.hint ?? ''].filter((part) => part !== '').join(' · ');
  hint.hidden = hint.textContent === '';
  if (stat.health === undefined) delete element.dataset.health;
  else element.dataset.health = stat.health;
  const svg = element.querySelector('svg');
  if (stat.series === undefined || stat.series.length === 0) {
    svg?.remove();
    return;
  }
  const label = sparkLabel(stat, stat.series, seconds);
  const drawn = drawSparkline(svg, stat.series, slots, label);
  if (svg === null) element.append(drawn);
}

function drawStats(body: HTMLElement, section: StatsSection, snapshot: DashboardSnapshot): void {
  let grid = body.querySelector<HTMLElement>('.stats');
  if (grid === null) {
    grid = el('div', { class: 'stats' });
    body.append(grid);
  }
  const slots = Math.max(2, Math.round(60_000 / snapshot.intervalMs));
  const seconds = Math.round((slots * snapshot.intervalMs) / 1000);
  const ids = new Set(section.stats.map((stat) => stat.id));
  for (const child of [...grid.children]) {
    if (!ids.has((child as HTMLElement).dataset.stat ?? '')) child.remove();
  }
  for (const stat of section.stats) drawStat(statElement(grid, stat), stat, slots, seconds);
}

function cell(value: string | number, header: boolean): HTMLElement {
  const numeric = typeof value === 'number';
  const text = numeric ? formatNumber(value) : value;
  return header
    ? el('th', { scope: 'row' }, text)
    : el('td', numeric ? { class: 'number', 'data-value': value } : {}, text);
}

function drawTable(body: HTMLElement, section: TableSection): void {
  if (section.rows.length === 0) {
    body.replaceChildren(el('p', { class: 'empty' }, section.empty));
    return;
  }
  const numeric = section.columns.map((_, i) => section.rows.every((row) => typeof row[i] === 'number'));
  const head = el(
    'tr',
    {},
    ...section.columns.map((name, i) =>
      el('th', { scope: 'col', class: numeric[i] ? 'number' : undefined }, name),
    ),
  );
  const rows = section.rows.map((row) => el('tr', {}, ...row.map((value, i) => cell(value, i === 0))));
  body.replaceChildren(el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function drawEvents(body: HTMLElement, section: EventsSection): void {
  if (section.events.length === 0) {
    body.replaceChildren(el('p', { class: 'empty' }, section.empty));
    return;
  }
  const items = section.events.map((event) =>
    el(
      'li',
      { 'data-level': event.level },
      el('time', { datetime: new Date(event.time).toISOString() }, formatClock(event.time)),
      el('span', { class: 'level' }, event.level),
      event.text,
    ),
  );
  body.replaceChildren(el('ol', { class: 'events' }, ...items));
}

/** Renders snapshots into a container, one `<section>` per snapshot section, in snapshot order. */
export class DashboardView {
  private readonly views = new Map<string, SectionView>();

  constructor(private readonly container: HTMLElement) {}

  /** Draws `snapshot`: updates known sections, adds new ones, removes those it no longer has. */
  render(snapshot: DashboardSnapshot): void {
    const seen = new Set<string>();
    let previous: HTMLElement | null = null;
    for (const section of snapshot.sections) {
      seen.add(section.id);
      const view = this.view(section);
      const inPlace: Element | null =
        previous === null ? this.container.firstElementChild : previous.nextElementSibling;
      if (inPlace !== view.element) {
        if (previous === null) this.container.prepend(view.element);
        else previous.after(view.element);
      }
      previous = view.element;
      this.draw(view, section, snapshot);
    }
    for (const [id, view] of this.views) {
      if (seen.has(id)) continue;
      view.element.remove();
      this.views.delete(id);
    }
  }

  private view(section: DashboardSection): SectionView {
    const known = this.views.get(section.id);
    if (known !== undefined && known.kind === section.kind) return known;
    known?.element.remove();
    const titleId = `section-${slug(section.id)}`;
    const body = el('div', { class: 'body' });
    const element = el(
      'section',
      { class: 'panel', 'data-section': section.id, 'aria-labelledby': titleId },
      el('h2', { id: titleId }),
      el('p', { class: 'note' }),
      body,
    );
    const view: SectionView = { kind: section.kind, element, body };
    this.views.set(section.id, view);
    return view;
  }

  private draw(view: SectionView, section: DashboardSection, snapshot: DashboardSnapshot): void {
    view.element.querySelector('h2')!.textContent = section.title;
    const note = view.element.querySelector<HTMLElement>('.note')!;
    note.textContent = section.note ?? '';
    note.hidden = section.note === undefined;
    if (section.kind === 'stats') drawStats(view.body, section, snapshot);
    else if (section.kind === 'table') drawTable(view.body, section);
    else drawEvents(view.body, section);
  }
}
