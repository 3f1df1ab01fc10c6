/**
 * Route matching: first match in order, on host (exact and wildcard), path (segment prefix, exact,
 * regex, after normalization) and headers (exact and regex). Routes come from real config text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGatewayConfig } from '../../src/gateway/config/load.js';
import { hostOf, normalizePath, type RouteRequest, Router } from '../../src/gateway/router.js';

function routerFor(routes: string): Router {
  const text = `
listen: [{ port: 8080 }]
upstreams:
  a: { backends: [ws://127.0.0.1:9001] }
  b: { backends: [ws://127.0.0.1:9002] }
routes:
${routes}
`;
  return new Router(parseGatewayConfig(text, { env: {} }).routes);
}

function request(pathname: string, headers: Record<string, string> = {}): RouteRequest {
  return { pathname, headers: { host: 'example.com', ...headers } };
}

/** Name of the route taking the request, or null. */
function routed(router: Router, pathname: string, headers: Record<string, string> = {}): string | null {
  return router.match(request(pathname, headers))?.name ?? null;
}

describe('paths', () => {
  const router = routerFor(`
  - { name: exact, path: { exact: /chat/admin }, upstream: a }
  - { name: chat, path: /chat, upstream: a }
  - { name: dir, path: /files/, upstream: a }
  - { name: versioned, path: { regex: '^/v[0-9]+/' }, upstream: b }
`);

  test('a prefix matches whole segments', () => {
    assert.equal(routed(router, '/chat'), 'chat');
    assert.equal(routed(router, '/chat/'), 'chat');
    assert.equal(routed(router, '/chat/room/1'), 'chat');
    assert.equal(routed(router, '/chatroom'), null);
    assert.equal(routed(router, '/cha'), null);
  });

  test('a prefix ending in / matches what lies below it', () => {
    assert.equal(routed(router, '/files/a.txt'), 'dir');
    assert.equal(routed(router, '/files/'), 'dir');
    assert.equal(routed(router, '/files'), null);
  });

  test('exact matches only the path itself, and wins by coming first', () => {
    assert.equal(routed(router, '/chat/admin'), 'exact');
    assert.equal(routed(router, '/chat/admin/x'), 'chat');
  });

  test('a regex is tested against the path', () => {
    assert.equal(routed(router, '/v2/feed'), 'versioned');
    assert.equal(routed(router, '/v/feed'), null);
    assert.equal(routed(router, '/x/v2/feed'), null);
  });

  test('paths are matched after normalization', () => {
    assert.equal(routed(router, '/files/../chat/admin'), 'exact');
    assert.equal(routed(router, '/files/%2e%2e/chat/admin'), 'exact');
    assert.equal(routed(router, '//chat//admin'), 'exact');
    assert.equal(routed(router, '/chat/./admin'), 'exact');
    assert.equal(routed(router, '/%63hat'), 'chat');
    assert.equal(normalizePath('/a/b/..'), '/a/');
    assert.equal(normalizePath('/../../x'), '/x');
    assert.equal(normalizePath('/a/%2f/b'), '/a/%2F/b');
    assert.equal(normalizePath('/a/b'), '/a/b');
    assert.equal(normalizePath('/.well-known/x'), '/.well-known/x');
    assert.equal(normalizePath('*'), '*');
  });

  test('no route: null', () => {
    assert.equal(routed(router, '/'), null);
  });
});

describe('hosts', () => {
  const router = routerFor(`
  - { name: api, host: api.example.com, upstream: a }
  - { name: tenants, host: '*.example.com', upstream: b }
  - { name: fallback, upstream: a }
`);

  test('exact host, case-insensitively and without the port', () => {
    assert.equal(routed(router, '/', { host: 'api.example.com' }), 'api');
    assert.equal(routed(router, '/', { host: 'API.Example.COM:8443' }), 'api');
    assert.equal(routed(router, '/', { host: 'api.example.com.' }), 'api');
  });

  test('a wildcard takes subdomains at any depth but not the domain itself', () => {
    assert.equal(routed(router, '/', { host: 'acme.example.com' }), 'tenants');
    assert.equal(routed(router, '/', { host: 'a.b.example.com:80' }), 'tenants');
    assert.equal(routed(router, '/', { host: 'example.com' }), 'fallback');
    assert.equal(routed(router, '/', { host: 'evilexample.com' }), 'fallback');
  });

  test('a request without Host only matches routes without host', () => {
    assert.equal(router.match({ pathname: '/', headers: {} })?.name, 'fallback');
  });

  test('hostOf reads Host or :authority and keeps IPv6 literals whole', () => {
    assert.equal(hostOf({ host: '[::1]:8080' }), '[::1]');
    assert.equal(hostOf({ ':authority': 'x.example.com:443' }), 'x.example.com');
    assert.equal(hostOf({}), null);
  });
});

describe('headers', () => {
  const router = routerFor(`
  - name: v2-mobile
    headers: { X-Version: "2", user-agent: { regex: 'Mobile' } }
    upstream: b
  - { name: v2, headers: { x-version: "2" }, upstream: b }
  - { name: any, upstream: a }
`);

  test('all conditions must hold; values are exact or regex', () => {
    assert.equal(routed(router, '/', { 'x-version': '2', 'user-agent': 'Foo Mobile/1' }), 'v2-mobile');
    assert.equal(routed(router, '/', { 'x-version': '2', 'user-agent': 'Desktop' }), 'v2');
    assert.equal(routed(router, '/', { 'x-version': '2' }), 'v2');
    assert.equal(routed(router, '/', { 'x-version': '20' }), 'any');
    assert.equal(routed(router, '/', { 'user-agent': 'Mobile' }), 'any');
  });

  test('a regex built with the g flag stays stateless', () => {
    const config = routerFor('  - { name: r, upstream: a }').routes[0]!;
    const sticky = new Router([{ ...config, headers: [{ name: 'x', value: /a/g }] }]);
    for (let i = 0; i < 4; i++) assert.equal(sticky.match(request('/', { x: 'a' }))?.name, 'r');
  });
});

test('the first matching route wins, in configuration order', () => {
  const router = routerFor(`
  - { name: first, path: /, upstream: a }
  - { name: second, path: /chat, upstream: b }
`);
  assert.equal(routed(router, '/chat'), 'first');
  assert.equal(router.match(request('/chat'))?.upstream, 'a');
});
