/**
 * The HTML of the chat demo (served on `/`). Markup only: the behaviour is in chat-app.ts, loaded as an
 * ES module, so that the page runs under a strict Content-Security-Policy (no inline script or style).
 * @module
 */
import { pageHead } from '../../observability/dashboard/html-page.js';

const HEAD = pageHead({
  title: 'Conduit chat',
  icon: '/favicon.svg',
  stylesheet: '/css/demo.css',
  script: '/js/web/chat-app.js',
});

/** The chat page. */
export const CHAT_HTML = `${HEAD}<header class="bar">
  <h1>Conduit chat</h1>
  <p id="status" class="status" role="status" data-state="connecting">
    <span class="dot" aria-hidden="true"></span><span id="status-text">Starting…</span>
    <button id="reconnect" type="button" class="link" hidden>Reconnect</button>
  </p>
  <nav><a href="/dashboard">Dashboard</a></nav>
</header>
<noscript><p class="notice">This demo needs JavaScript.</p></noscript>
<section id="welcome" class="welcome" aria-labelledby="welcome-title" hidden>
  <form id="name-form" class="panel">
    <h2 id="welcome-title">Welcome</h2>
    <label for="name-input">Your name</label>
    <input id="name-input" name="name" required maxlength="32" autocomplete="nickname">
    <button type="submit">Start chatting</button>
  </form>
</section>
<main id="chat" class="chat-layout" hidden>
  <nav class="rooms panel" aria-labelledby="rooms-title">
    <h2 id="rooms-title">Rooms</h2>
    <ul id="rooms"></ul>
    <form id="room-form">
      <label for="room-input">Join another room</label>
      <input id="room-input" name="room" required maxlength="32" pattern="[A-Za-z0-9_\\-]+"
        title="Letters, digits, _ and - only" autocomplete="off">
      <button type="submit">Join</button>
    </form>
  </nav>
  <section class="conversation panel" aria-labelledby="room-title">
    <h2 id="room-title">#lobby</h2>
    <ol id="messages" class="messages" role="log" aria-live="polite" aria-labelledby="room-title"></ol>
    <form id="composer" class="composer">
      <label for="message-input" class="visually-hidden">Message</label>
      <input id="message-input" name="text" required maxlength="2000" autocomplete="off" placeholder="Say something">
      <button type="submit">Send</button>
    </form>
  </section>
  <aside class="people panel" aria-labelledby="people-title">
    <h2 id="people-title">Here now (<span id="people-count">0</span>)</h2>
    <ul id="presence"></ul>
    <p>You are <strong id="my-name"></strong>. <button id="rename" type="button" class="link">Change name</button></p>
  </aside>
</main>
</body>
</html>
`;
