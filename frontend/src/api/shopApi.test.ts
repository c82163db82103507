import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeStore } from '../app/store';
import { EXPIRED_NOTICE, ENDED_NOTICE } from '../features/auth/authSlice';
import { FakeApi, problem } from '../test/fakeApi';
import { cart, order, product, session } from '../test/fixtures';
import { retryFailedQueries } from './retry';
import { cartWithout, shopApi } from './shopApi';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  api.install();
});
afterEach(() => vi.unstubAllGlobals());

describe('the base query', () => {
  it('sends the token and no token when logged out', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([]) });
    api.on('GET', '/api/products', { status: 200, body: { items: [], page: 1, page_size: 12, total: 0 } });
    const store = makeStore({ preloadedAuth: session({ token: 'tok-abc' }) });
    await store.dispatch(shopApi.endpoints.getCart.initiate());
    expect(api.calls[0]!.headers.get('Authorization')).toBe('Bearer tok-abc');

    const anon = makeStore({});
    await anon.dispatch(shopApi.endpoints.getProducts.initiate({}));
    expect(api.calls[1]!.headers.get('Authorization')).toBeNull();
  });

  it('a 401 on a request with a token ends the session, with a message', async () => {
    api.on('GET', '/api/cart', problem(401, 'the token has been revoked'));
    const store = makeStore({ preloadedAuth: session() });
    await store.dispatch(shopApi.endpoints.getCart.initiate());
    expect(store.getState().auth.token).toBeNull();
    expect(store.getState().auth.notice).toBe(ENDED_NOTICE);
  });

  it('says "expired" when the token had run out', async () => {
    api.on('GET', '/api/cart', problem(401, 'the token has expired'));
    const store = makeStore({ preloadedAuth: session({ expiresAt: Date.now() - 1000 }) });
    await store.dispatch(shopApi.endpoints.getCart.initiate());
    expect(store.getState().auth.notice).toBe(EXPIRED_NOTICE);
  });

  it('a 401 to a login (no token) is only an answer', async () => {
    api.on('POST', '/api/auth/login', problem(401, 'wrong email or password'));
    const store = makeStore({});
    const r = await store.dispatch(shopApi.endpoints.login.initiate({ email: 'a@b.c', password: 'x' }));
    expect('error' in r && r.error).toBeTruthy();
    expect(store.getState().auth.notice).toBeNull();
  });

  it('raises the banner when the platform cannot be reached, lowers it when it answers', async () => {
    api.on('GET', '/api/products', 'network-error');
    const store = makeStore({});
    await store.dispatch(shopApi.endpoints.getProducts.initiate({}));
    expect(store.getState().ui.apiDown).toBe(true);
    expect(store.getState().ui.apiDownDetail).toMatch(/cannot be reached/);

    api.on('GET', '/api/products', { status: 200, body: { items: [], page: 1, page_size: 12, total: 0 } });
    expect(retryFailedQueries(store)).toBe(1);
    await vi.waitFor(() => expect(store.getState().ui.apiDown).toBe(false));
    expect(api.callsTo('GET', '/api/products')).toHaveLength(2);
  });

  it('a 503 from the gateway counts as unreachable; a 409 does not', async () => {
    api.on('GET', '/api/categories', problem(503, 'no product upstream is available'));
    api.on('POST', '/api/cart/items', problem(409, 'only 2 in stock'));
    const store = makeStore({ preloadedAuth: session() });
    await store.dispatch(shopApi.endpoints.getCategories.initiate());
    expect(store.getState().ui.apiDown).toBe(true);
    await store.dispatch(shopApi.endpoints.addToCart.initiate({ product_id: product(1).id, quantity: 5 }));
    expect(store.getState().ui.apiDown).toBe(false);
  });

  it('sends the catalog query as the API names it', async () => {
    api.on('GET', '/api/products', { status: 200, body: { items: [], page: 2, page_size: 12, total: 0 } });
    const store = makeStore({});
    await store.dispatch(
      shopApi.endpoints.getProducts.initiate({ q: '  hedphones ', category: 'audio', sort: 'price_asc', page: 2, page_size: 12 }),
    );
    const s = api.calls[0]!.search;
    expect(Object.fromEntries(s)).toEqual({ q: 'hedphones', category: 'audio', sort: 'price_asc', page: '2', page_size: '12' });
  });
});

describe('the cart cache (the header badge reads it)', () => {
  it('takes the cart each change answers', async () => {
    const p = product(1);
    api.on('GET', '/api/cart', { status: 200, body: cart([]) });
    api.on('POST', '/api/cart/items', { status: 200, body: cart([{ p, quantity: 3 }]) });
    api.on('PUT', `/api/cart/items/${p.id}`, { status: 200, body: cart([{ p, quantity: 1 }]) });
    api.on('DELETE', `/api/cart/items/${p.id}`, { status: 200, body: cart([]) });
    const store = makeStore({ preloadedAuth: session() });
    const sub = store.dispatch(shopApi.endpoints.getCart.initiate());
    await sub;
    const count = () => shopApi.endpoints.getCart.select()(store.getState()).data?.item_count;
    expect(count()).toBe(0);
    await store.dispatch(shopApi.endpoints.addToCart.initiate({ product_id: p.id, quantity: 3 }));
    await vi.waitFor(() => expect(count()).toBe(3));
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({ product_id: p.id, quantity: 3 });
    await store.dispatch(shopApi.endpoints.setQuantity.initiate({ product_id: p.id, quantity: 1 }));
    await vi.waitFor(() => expect(count()).toBe(1));
    expect(api.calls.find((c) => c.method === 'PUT')!.body).toEqual({ quantity: 1 });
    await store.dispatch(shopApi.endpoints.removeLine.initiate(p.id));
    await vi.waitFor(() => expect(count()).toBe(0));
    sub.unsubscribe();
  });

  it('an order takes its lines out at once, then the real cart is read', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const [a, b] = [product(1), product(2)];
      const before = cart([
        { p: a, quantity: 2 },
        { p: b, quantity: 1 },
      ]);
      const placed = order('pending', before);
      api.on('GET', '/api/cart', { status: 200, body: before });
      api.on('POST', '/api/orders', { status: 201, body: placed });
      const store = makeStore({ preloadedAuth: session() });
      const sub = store.dispatch(shopApi.endpoints.getCart.initiate());
      await sub;
      await store.dispatch(
        shopApi.endpoints.placeOrder.initiate({
          payment_token: 'tok_visa',
          shipping_address: placed.shipping_address,
          idempotencyKey: 'key-1',
        }),
      );
      const post = api.callsTo('POST', '/api/orders')[0]!;
      expect(post.headers.get('Idempotency-Key')).toBe('key-1');
      expect(post.body).toEqual({ payment_token: 'tok_visa', shipping_address: placed.shipping_address });
      await vi.waitFor(() => expect(shopApi.endpoints.getCart.select()(store.getState()).data?.item_count).toBe(0));
      // the order is in the cache for its page
      await vi.waitFor(() =>
        expect(shopApi.endpoints.getOrder.select(placed.id)(store.getState()).data?.id).toBe(placed.id),
      );
      expect(api.callsTo('GET', `/api/orders/${placed.id}`)).toHaveLength(0);

      api.on('GET', '/api/cart', { status: 200, body: cart([]) });
      await vi.advanceTimersByTimeAsync(1600);
      await vi.waitFor(() => expect(api.callsTo('GET', '/api/cart')).toHaveLength(2));
      sub.unsubscribe();
    } finally {
      vi.useRealTimers();
    }
  });

  it('forgets everything when the user changes', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([{ p: product(1), quantity: 4 }]) });
    const store = makeStore({ preloadedAuth: session() });
    await store.dispatch(shopApi.endpoints.getCart.initiate());
    expect(shopApi.endpoints.getCart.select()(store.getState()).data?.item_count).toBe(4);
    store.dispatch({ type: 'auth/loggedOut' });
    expect(shopApi.endpoints.getCart.select()(store.getState()).data).toBeUndefined();
  });
});

describe('cartWithout', () => {
  it('subtracts the ordered quantities, keeping what was added since', () => {
    const [a, b] = [product(1), product(2)];
    const ordered = order('pending', cart([{ p: a, quantity: 2 }]));
    const now = cart([
      { p: a, quantity: 3 },
      { p: b, quantity: 1 },
    ]);
    const left = cartWithout(now, ordered);
    expect(left.items.map((l) => [l.product_id, l.quantity])).toEqual([
      [a.id, 1],
      [b.id, 1],
    ]);
    expect(left.item_count).toBe(2);
    expect(left.total_cents).toBe(a.price_cents + b.price_cents);
    expect(cartWithout(cart([{ p: a, quantity: 2 }]), ordered).items).toEqual([]);
  });
});
