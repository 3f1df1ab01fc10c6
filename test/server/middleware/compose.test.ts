/**
 * Composed upgrade hooks: order, the first refusal wins, synchronous chains stay synchronous, and a
 * full chain (IP filter, rate limit, origin, JWT) on a real server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { WebSocketConnection } from '../../../src/server/connection.js';
import { composeUpgradeHooks } from '../../../src/server/middleware/compose.js';
import { ipFilter } from '../../../src/server/middleware/ip-filter.js';
import { type AuthInfo, createJwtVerifier } from '../../../src/server/middleware/jwt.js';
import { jwtAuth } from '../../../src/server/middleware/jwt-auth.js';
import { originAllowList } from '../../../src/server/middleware/origin.js';
import { upgradeRateLimit } from '../../../src/server/middleware/rate-limit.js';
import type { UpgradeHook } from '../../../src/server/options.js';
import type { UpgradeRequest } from '../../../src/server/upgrade-request.js';
import { closeServer, waitFor } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

/** A request object good enough for hooks that only read `data` (unit tests of the chaining). */
function fakeRequest(): UpgradeRequest {
  return { data: undefined } as UpgradeRequest;
}

function recorder(calls: string[], name: string, answer: ReturnType<UpgradeHook>): UpgradeHook {
  return () => {
    calls.push(name);
    return answer;
  };
}

describe('composeUpgradeHooks', () => {
  test('runs hooks in order; a synchronous chain answers synchronously', () => {
    const calls: string[] = [];
    const hook = composeUpgradeHooks(recorder(calls, 'a', undefined), recorder(calls, 'b', true));
    assert.equal(hook(fakeRequest()), undefined);
    assert.deepEqual(calls, ['a', 'b']);
  });

  test('stops at the first refusal and returns it', () => {
    const calls: string[] = [];
    const rejection = { status: 429 };
    const hook = composeUpgradeHooks(
      recorder(calls, 'a', undefined),
      recorder(calls, 'b', rejection),
      recorder(calls, 'c', undefined),
    );
    assert.equal(hook(fakeRequest()), rejection);
    assert.deepEqual(calls, ['a', 'b']);
    calls.length = 0;
    const refuseFalse = composeUpgradeHooks(recorder(calls, 'x', false), recorder(calls, 'y', undefined));
    assert.equal(refuseFalse(fakeRequest()), false);
    assert.deepEqual(calls, ['x']);
  });

  test('an async hook makes the rest of the chain async, and its refusal stops it', async () => {
    const calls: string[] = [];
    const accepting = composeUpgradeHooks(
      recorder(calls, 'a', undefined),
      () => {
        calls.push('b');
        return Promise.resolve(undefined);
      },
      recorder(calls, 'c', undefined),
    );
    const result = accepting(fakeRequest());
    assert.ok(result instanceof Promise);
    assert.deepEqual(calls, ['a', 'b'], 'c waits for b');
    assert.equal(await result, undefined);
    assert.deepEqual(calls, ['a', 'b', 'c']);

    calls.length = 0;
    const refusing = composeUpgradeHooks(
      () => Promise.resolve({ status: 401 }),
      recorder(calls, 'never', undefined),
    );
    assert.deepEqual(await refusing(fakeRequest()), { status: 401 });
    assert.deepEqual(calls, []);
  });

  test('an empty chain accepts; exceptions propagate', async () => {
    assert.equal(composeUpgradeHooks()(fakeRequest()), undefined);
    const boom = composeUpgradeHooks(() => {
      throw new Error('boom');
    });
    assert.throws(() => boom(fakeRequest()), /boom/);
    const asyncBoom = composeUpgradeHooks(() => Promise.reject(new Error('later')));
    await assert.rejects(Promise.resolve(asyncBoom(fakeRequest())), /later/);
  });
});

describe('a full chain on a real server', () => {
  test('IP filter, rate limit, origin and JWT together', async () => {
    const secret = 'a-test-secret-of-at-least-32-bytes!!';
    let time = 0;
    const hook = composeUpgradeHooks(
      ipFilter({ allow: ['127.0.0.0/8'] }),
      upgradeRateLimit({ perSecond: 1, burst: 3, clock: { now: () => time } }),
      originAllowList(['https://app.example.com']),
      jwtAuth(createJwtVerifier({ secret })),
    );
    const { server, port } = await serverWith(hook);
    try {
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const ok = await handshake(port, {
        path: `/?token=${jwt}`,
        headers: { Origin: 'https://app.example.com' },
      });
      assert.equal(ok.status, 101);
      const [connection] = await connected;
      assert.equal((connection.data as { auth: AuthInfo }).auth.user, 'carol');

      const badOrigin = await handshake(port, {
        path: `/?token=${jwt}`,
        headers: { Origin: 'https://evil.test' },
      });
      assert.equal(badOrigin.status, 403);
      const noToken = await handshake(port, { headers: { Origin: 'https://app.example.com' } });
      assert.equal(noToken.status, 401);
      const limited = await handshake(port, { headers: { Origin: 'https://app.example.com' } });
      assert.equal(limited.status, 429, 'the rate limit runs before origin and auth');
      time += 1000;
      assert.equal((await handshake(port, { headers: { Origin: 'https://evil.test' } })).status, 403);
    } finally {
      await closeServer(server);
    }
  });
});
