/**
 * The IP filter against real servers: deny and allow lists with addresses and CIDR blocks, IPv4 peers
 * of a dual-stack listener (::ffff:127.0.0.1) matching IPv4 rules, and IPv6 peers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type IpFilterOptions, ipFilter } from '../../../src/server/middleware/ip-filter.js';
import type { UpgradeRequest } from '../../../src/server/upgrade-request.js';
import { closeServer } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

/** Starts a server on `host` with the filter, records the peer address it saw, and answers the status. */
async function statusWith(
  options: IpFilterOptions,
  host = '127.0.0.1',
): Promise<{ status: number; peer: string }> {
  let peer = '';
  const filter = ipFilter(options);
  const { server, port } = await serverWith((request: UpgradeRequest) => {
    peer = request.remoteAddress;
    return filter(request);
  }, host);
  try {
    const connectTo = host === '::1' ? '::1' : '127.0.0.1';
    const answer = await handshake(port, { host: connectTo });
    return { status: answer.status, peer };
  } finally {
    await closeServer(server);
  }
}

describe('ipFilter on IPv4', () => {
  test('deny by address and by block refuses with 403', async () => {
    assert.equal((await statusWith({ deny: ['127.0.0.1'] })).status, 403);
    assert.equal((await statusWith({ deny: ['127.0.0.0/8'] })).status, 403);
    assert.equal((await statusWith({ deny: ['10.0.0.0/8', '::1'] })).status, 101);
  });

  test('allow lets listed clients in and refuses the others', async () => {
    assert.equal((await statusWith({ allow: ['127.0.0.0/24'] })).status, 101);
    assert.equal((await statusWith({ allow: ['10.0.0.0/8', '192.168.0.1'] })).status, 403);
    assert.equal((await statusWith({ allow: [] })).status, 403, 'an empty allow list admits nobody');
  });

  test('deny wins over allow', async () => {
    assert.equal((await statusWith({ allow: ['127.0.0.0/8'], deny: ['127.0.0.1/32'] })).status, 403);
  });
});

describe('ipFilter with IPv4-mapped IPv6 peers', () => {
  const dualStack = '::ffff:127.0.0.1';

  test('the peer is reported as ::ffff:127.0.0.1 and IPv4 deny rules match it', async () => {
    const { status, peer } = await statusWith({ deny: ['127.0.0.1'] }, dualStack);
    assert.equal(peer, '::ffff:127.0.0.1');
    assert.equal(status, 403);
    assert.equal((await statusWith({ deny: ['127.0.0.0/8'] }, dualStack)).status, 403);
  });

  test('IPv4 allow rules match it', async () => {
    assert.equal((await statusWith({ allow: ['127.0.0.0/8'] }, dualStack)).status, 101);
    assert.equal((await statusWith({ allow: ['10.0.0.0/8'] }, dualStack)).status, 403);
  });

  test('rules written in mapped form match too', async () => {
    assert.equal((await statusWith({ deny: ['::ffff:127.0.0.1'] }, dualStack)).status, 403);
    assert.equal((await statusWith({ deny: ['::ffff:127.0.0.1'] })).status, 403);
  });
});

describe('ipFilter on IPv6', () => {
  test('IPv6 addresses and blocks', async () => {
    const { status, peer } = await statusWith({ deny: ['::1'] }, '::1');
    assert.equal(peer, '::1');
    assert.equal(status, 403);
    assert.equal((await statusWith({ allow: ['::/0'] }, '::1')).status, 101);
    assert.equal((await statusWith({ allow: ['2001:db8::/32'] }, '::1')).status, 403);
    assert.equal((await statusWith({ allow: ['127.0.0.0/8'] }, '::1')).status, 403);
  });
});

describe('ipFilter options', () => {
  test('invalid rules throw', () => {
    assert.throws(() => ipFilter({ deny: ['not-an-ip'] }), TypeError);
    assert.throws(() => ipFilter({ deny: ['10.0.0.0/33'] }), TypeError);
    assert.throws(() => ipFilter({ allow: ['::/129'] }), TypeError);
    assert.throws(() => ipFilter({ allow: ['10.0.0.0/x'] }), TypeError);
    assert.throws(() => ipFilter({ allow: ['10.0.0.0/'] }), TypeError);
  });

  test('a custom address source (behind a proxy)', async () => {
    const address = (request: UpgradeRequest) => request.headers['x-real-ip'] ?? '';
    const filter = ipFilter({ deny: ['203.0.113.0/24'], address });
    const { server, port } = await serverWith(filter);
    try {
      const as = (ip: string) => handshake(port, { headers: { 'X-Real-IP': ip } });
      assert.equal((await as('203.0.113.7')).status, 403);
      assert.equal((await as('198.51.100.7')).status, 101);
    } finally {
      await closeServer(server);
    }
  });
});
