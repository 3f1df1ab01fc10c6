/**
 * The chat demo page (browser code, the entry module of `/`): loads the hub client SDK from the server,
 * asks for a name once, and keeps the page in one room at a time, switching on a click or on the URL's
 * `#room`. Reconnecting, resubscribing and resuming are the SDK's work; the page shows the state.
 * @module
 */
import { ChatRoom } from './chat-room.js';
import { chatStore, displayName, roomName } from './chat-store.js';
import { ChatView } from './chat-view.js';
import { byId, showStatus } from './dom.js';
import { type HubClientLike, loadHubClient } from './sdk.js';

/** Runs `handler` on a form's submit, instead of navigating. */
function onSubmit(id: string, handler: (form: HTMLFormElement) => void): void {
  const form = byId<HTMLFormElement>(id);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    handler(form);
  });
}

/** The room named by the URL's fragment (`/#lobby`), if any. */
function hashRoom(): string | null {
  try {
    return roomName(decodeURIComponent(location.hash.slice(1)));
  } catch {
    return null; // a malformed escape names no room
  }
}

function inputValue(id: string): string {
  return byId<HTMLInputElement>(id).value;
}

/** The page. */
class ChatApp {
  private room: ChatRoom | null = null;
  private name = '';
  private readonly me = { name: () => this.name, author: chatStore.author() };

  constructor(
    private readonly client: HubClientLike,
    private readonly view: ChatView,
  ) {}

  start(): void {
    this.client.on('state', ({ state }) => this.view.showState(state));
    this.client.on('reconnecting', ({ attempt, delayMs }) => {
      const seconds = Math.max(1, Math.round(delayMs / 1000));
      this.view.showState('disconnected', `Disconnected, reconnecting in ${seconds} s (attempt ${attempt})`);
    });
    this.client.on('error', (error) => console.warn('hub client:', error.message));
    byId('reconnect').addEventListener('click', () => this.client.connect());
    byId('rename').addEventListener('click', () => this.view.askName(this.name));
    onSubmit('name-form', () => this.named(inputValue('name-input')));
    onSubmit('room-form', (form) => {
      const room = roomName(inputValue('room-input'));
      if (room === null) return;
      form.reset();
      this.enter(room);
    });
    onSubmit('composer', (form) => this.send(form));
    window.addEventListener('hashchange', () => this.enterFromHash());
    this.client.connect();
    const name = chatStore.name();
    if (name === null) this.view.askName(null);
    else this.named(name);
  }

  private named(text: string): void {
    const name = displayName(text);
    if (name === null) return;
    const first = this.name === '';
    this.name = name;
    chatStore.setName(name);
    this.view.showChat(name);
    if (first) this.enter(this.initialRoom());
    else this.room?.renamed();
    byId('message-input').focus();
  }

  private initialRoom(): string {
    return hashRoom() ?? chatStore.currentRoom() ?? 'lobby';
  }

  private enterFromHash(): void {
    const room = hashRoom();
    if (room !== null && this.name !== '') this.enter(room);
  }

  private enter(room: string): void {
    if (this.room?.room === room) return;
    this.room?.leave();
    chatStore.addRoom(room);
    chatStore.setCurrentRoom(room);
    if (location.hash !== `#${room}`) history.replaceState(null, '', `#${room}`);
    this.view.showRooms(chatStore.rooms(), room, (chosen) => this.enter(chosen));
    this.view.clearMessages();
    this.view.showPeople([]);
    this.room = new ChatRoom(this.client, room, this.me, this.view);
    this.room.enter();
  }

  private send(form: HTMLFormElement): void {
    const text = inputValue('message-input').trim();
    const room = this.room;
    if (text === '' || room === null) return;
    form.reset();
    // While offline the SDK queues the publish and sends it on reconnection.
    room.send(text).catch((error: Error) => this.view.addNotice(`Not sent: ${error.message}`));
  }
}

loadHubClient().then(
  (HubClient) => new ChatApp(new HubClient(new URL('/hub', location.href).href), new ChatView()).start(),
  (error: Error) => showStatus('closed', `The hub client could not be loaded: ${error.message}`),
);
