/**
 * The chat page's rendering (browser code): the room list, the conversation, the presence list and the
 * connection state. Everything from other people goes in as text.
 * @module
 */
import type { ChatMessage, Person, RoomView } from './chat-room.js';
import { byId, el, showStatus } from './dom.js';
import { formatClock } from './format.js';
import type { ClientState } from './sdk.js';

/** Messages kept on screen; older ones are removed (the hub keeps history, the page need not). */
const MAX_SHOWN = 500;

const STATE_TEXT: Record<ClientState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Disconnected',
  closed: 'Offline',
};

/** The chat page's elements. */
export class ChatView implements RoomView {
  private readonly messages = byId<HTMLOListElement>('messages');

  /** Shows the name form (first visit, or "Change name"), prefilled with `name`. */
  askName(name: string | null): void {
    byId('chat').hidden = true;
    byId('welcome').hidden = false;
    const input = byId<HTMLInputElement>('name-input');
    input.value = name ?? '';
    input.focus();
  }

  /** Shows the chat under the name `name`. */
  showChat(name: string): void {
    byId('welcome').hidden = true;
    byId('chat').hidden = false;
    byId('my-name').textContent = name;
  }

  /** Lists the rooms, `current` marked; `choose` is called with the room clicked. */
  showRooms(rooms: string[], current: string, choose: (room: string) => void): void {
    const items = rooms.map((room) => {
      const button = el(
        'button',
        { type: 'button', 'aria-current': room === current ? 'true' : false },
        `#${room}`,
      );
      button.addEventListener('click', () => choose(room));
      return el('li', {}, button);
    });
    byId('rooms').replaceChildren(...items);
    byId('room-title').textContent = `#${current}`;
    document.title = `#${current} · Conduit chat`;
  }

  /** Shows the connection state; `detail` replaces the state's own words. */
  showState(state: ClientState, detail?: string): void {
    showStatus(state, detail ?? STATE_TEXT[state]);
    byId('reconnect').hidden = state !== 'closed';
  }

  clearMessages(): void {
    this.messages.replaceChildren();
  }

  addMessage(message: ChatMessage, mine: boolean): void {
    const at = new Date(message.at);
    this.append(
      el(
        'li',
        { class: mine ? 'mine' : undefined },
        el('time', { datetime: at.toISOString() }, formatClock(message.at, false)),
        el('span', { class: 'who' }, message.name),
        el('span', { class: 'text' }, message.text),
      ),
    );
  }

  addNotice(text: string): void {
    this.append(el('li', { class: 'system' }, text));
  }

  showPeople(people: Person[]): void {
    const items = people.map((person) => {
      const extra = [person.you ? 'you' : '', person.connections > 1 ? `${person.connections} tabs` : '']
        .filter((part) => part !== '')
        .join(', ');
      return el('li', {}, person.name, extra === '' ? '' : el('span', { class: 'you' }, ` (${extra})`));
    });
    byId('presence').replaceChildren(...items);
    byId('people-count').textContent = String(people.reduce((sum, p) => sum + p.connections, 0));
  }

  private append(item: HTMLLIElement): void {
    const list = this.messages;
    // Follow the conversation only when the reader is at its end (not while they scroll back).
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(item);
    while (list.childElementCount > MAX_SHOWN) list.firstElementChild?.remove();
    if (atEnd) list.scrollTop = list.scrollHeight;
  }
}
