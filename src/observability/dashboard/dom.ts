/**
 * Small DOM helpers of the dashboard (and of `conduit serve`'s chat demo; browser code). Text always goes in through `textContent`, never
 * as markup: chat messages and topic names come from other people.
 * @module
 */

/** Attributes of {@link el}: strings are set as attributes; `false` and `undefined` are skipped. */
export type Attributes = Record<string, string | number | true | false | undefined>;

/** Creates an HTML element with attributes and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** The element with `id`; throws when the page lacks it (a markup bug, not a runtime condition). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Shows the connection state: `state` goes to `data-state` (the dot's colour), `text` is read out. */
export function showStatus(state: string, text: string): void {
  byId('status').dataset.state = state;
  byId('status-text').textContent = text;
}
