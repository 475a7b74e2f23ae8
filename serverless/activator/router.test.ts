import assert from 'node:assert/strict';
import { Router } from './router.js';

describe('activator: Router', () => {
  const router = new Router({ domain: 'fn.example.com' });

  it('routes <name>.<namespace>.<domain> by Host, with any port and case, keeping the path', () => {
    assert.deepEqual(router.route('hello.shop.fn.example.com', '/a?b=1'), { key: 'shop/hello', path: '/a?b=1' });
    assert.deepEqual(router.route('Hello.Shop.FN.example.com:8080', '/'), { key: 'shop/hello', path: '/' });
    assert.deepEqual(router.route('hello.shop.fn.example.com.', '/'), { key: 'shop/hello', path: '/' });
  });

  it('routes /<namespace>/<name>/rest by path when the Host names no function, stripping the prefix', () => {
    const prefix = '/shop/hello';
    assert.deepEqual(router.route('127.0.0.1:8080', '/shop/hello/a/b?c=1'), {
      key: 'shop/hello',
      path: '/a/b?c=1',
      prefix,
    });
    assert.deepEqual(router.route('127.0.0.1:8080', '/shop/hello'), { key: 'shop/hello', path: '/', prefix });
    assert.deepEqual(router.route('127.0.0.1:8080', '/shop/hello?x=1'), { key: 'shop/hello', path: '/?x=1', prefix });
    assert.deepEqual(router.route(undefined, '/shop/hello/'), { key: 'shop/hello', path: '/', prefix });
  });

  it('names no function for a bare path, a one-segment path, or a Host with too many labels', () => {
    assert.equal(router.route('127.0.0.1', '/'), undefined);
    assert.equal(router.route('127.0.0.1', '/shop'), undefined);
    assert.equal(router.route('127.0.0.1', '/shop/'), undefined);
    assert.equal(router.route('127.0.0.1', '*'), undefined);
    assert.deepEqual(
      router.route('a.hello.shop.fn.example.com', '/x/y'),
      { key: 'x/y', path: '/', prefix: '/x/y' },
      'falls back to the path',
    );
  });

  it("routes the cluster names of a Function's own Service (what its endpoints receive in proxy mode)", () => {
    assert.deepEqual(router.route('hello.shop', '/a'), { key: 'shop/hello', path: '/a' });
    assert.deepEqual(router.route('hello.shop.svc', '/'), { key: 'shop/hello', path: '/' });
    assert.deepEqual(router.route('hello.shop.svc.cluster.local:80', '/'), { key: 'shop/hello', path: '/' });
    assert.equal(router.route('hello', '/'), undefined, 'a bare name says no namespace');
    assert.equal(router.route('10.0.0.1', '/'), undefined);
    assert.equal(router.route('hello.shop.svcx', '/'), undefined);
    assert.deepEqual(
      router.route('hello.shop.svc', '/api/users'),
      { key: 'shop/hello', path: '/api/users' },
      'a .svc name wins over the path',
    );
    assert.deepEqual(
      router.route('myhost.lan', '/x/y/z'),
      { key: 'x/y', path: '/z', prefix: '/x/y' },
      'any two-label host could be name.namespace: the path wins',
    );
  });

  it('builds the Host-routed URL', () => {
    assert.equal(router.url('shop', 'hello', 8080), 'http://hello.shop.fn.example.com:8080');
    assert.equal(new Router().url('default', 'hi'), 'http://hi.default.fn.localhost');
  });
});
