/**
 * The stylesheet of the chat and dashboard pages of `conduit serve` (served as /css/demo.css): the
 * dashboard's sheet (its page frame is shared) and the chat's own rules.
 * @module
 */
import { DASHBOARD_CSS } from '../../observability/dashboard/dashboard-style.js';

/** The chat's layout, rooms, messages, composer and presence list. */
const CHAT_CSS = `
/* chat */
.welcome { display: grid; place-items: center; padding: 3rem 1rem; }
.welcome form { display: grid; gap: 0.6rem; width: min(22rem, 100%); }
.chat-layout {
  display: grid; grid-template-columns: 13rem minmax(0, 1fr) 15rem; gap: 1rem; padding: 1rem 1.25rem;
  height: calc(100vh - 3.6rem);
}
.chat-layout > * { min-height: 0; }
.rooms ul, .people ul { list-style: none; margin: 0.5rem 0; padding: 0; }
.rooms li button {
  width: 100%; text-align: left; background: none; color: var(--text); border: 1px solid transparent;
}
.rooms li button[aria-current="true"] { border-color: var(--accent); background: var(--mine); font-weight: 600; }
.rooms form, .composer { display: flex; gap: 0.5rem; }
.rooms form { flex-direction: column; margin-top: 1rem; }
.conversation { display: flex; flex-direction: column; }
.messages { list-style: none; margin: 0.75rem 0; padding: 0; overflow-y: auto; flex: 1; }
.messages li { padding: 0.35rem 0.5rem; border-radius: 6px; }
.messages li.mine { background: var(--mine); }
.messages li.system { color: var(--muted); font-style: italic; font-size: 0.875rem; }
.messages .who { font-weight: 600; margin-right: 0.5rem; }
.messages time { color: var(--muted); font-size: 0.75rem; margin-right: 0.5rem; }
.messages .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.composer input { flex: 1; }
.people li { padding: 0.2rem 0; }
.people .you { color: var(--muted); font-size: 0.875rem; }
@media (max-width: 52rem) {
  .chat-layout { grid-template-columns: 1fr; height: auto; }
  .messages { max-height: 60vh; }
}
`;

/** The shared stylesheet. */
export const DEMO_CSS = DASHBOARD_CSS + CHAT_CSS;
