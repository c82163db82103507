import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Toasts } from '../components/Toasts';
import { EXPIRED_NOTICE } from '../features/auth/authSlice';
import { FakeApi, problem } from '../test/fakeApi';
import { authAnswer, cart, order, product, session } from '../test/fixtures';
import { renderWithStore } from '../test/render';
import { CartPage } from './CartPage';
import { CheckoutPage } from './CheckoutPage';
import { LoginPage, TEST_USER } from './LoginPage';
import { OrderPage } from './OrderPage';
import { OrdersPage } from './OrdersPage';
import { RegisterPage } from './RegisterPage';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  api.install();
});
afterEach(() => vi.unstubAllGlobals());

const location = () => screen.getByTestId('location').textContent;

describe('LoginPage', () => {
  it('logs in and goes where the shopper was headed', async () => {
    api.on('POST', '/api/auth/login', { status: 200, body: authAnswer('fresh') });
    const { store } = renderWithStore(<LoginPage />, { route: '/login?next=%2Fcheckout', path: '/login' });
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(location()).toBe('/checkout'));
    expect(store.getState().auth.token).toBe('fresh');
    expect(api.calls[0]!.body).toEqual({ email: 'ada@example.com', password: 'correct horse' });
  });

  it('a wrong password says so, on the page', async () => {
    api.on('POST', '/api/auth/login', problem(401, 'invalid email or password'));
    renderWithStore(<LoginPage />, { route: '/login', path: '/login' });
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That email and password do not match an account.');
  });

  it('too many attempts: the problem’s detail', async () => {
    api.on('POST', '/api/auth/login', problem(429, 'too many failed logins for this email; try again in 60 s'));
    renderWithStore(<LoginPage />, { route: '/login', path: '/login' });
    await userEvent.type(screen.getByLabelText('Email'), 'a@b.co');
    await userEvent.type(screen.getByLabelText('Password'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many failed logins for this email; try again in 60 s');
  });

  it('shows why the shopper was sent here (an expired session)', () => {
    renderWithStore(<LoginPage />, {
      route: '/login',
      path: '/login',
      auth: { token: null, user: null, expiresAt: null, notice: EXPIRED_NOTICE },
    });
    expect(screen.getByRole('alert')).toHaveTextContent(EXPIRED_NOTICE);
  });

  it('has the test-user shortcut in development', async () => {
    api.on('POST', '/api/auth/login', { status: 200, body: authAnswer() });
    renderWithStore(<LoginPage />, { route: '/login', path: '/login' });
    await userEvent.click(screen.getByRole('button', { name: 'Log in as test user' }));
    await waitFor(() => expect(location()).toBe('/'));
    expect(api.calls[0]!.body).toEqual(TEST_USER);
  });
});

describe('RegisterPage', () => {
  it('puts each validation error under its field', async () => {
    api.on(
      'POST',
      '/api/auth/register',
      problem(400, 'the registration is invalid', [
        { field: 'email', message: 'must contain exactly one @' },
        { field: 'password', message: 'must be at least 8 characters' },
      ]),
    );
    renderWithStore(<RegisterPage />, { route: '/register', path: '/register' });
    await userEvent.type(screen.getByLabelText('Name'), 'Ada');
    await userEvent.type(screen.getByLabelText('Email'), 'ada');
    await userEvent.type(screen.getByLabelText('Password'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    const email = screen.getByLabelText('Email');
    await waitFor(() => expect(email).toHaveAttribute('aria-invalid', 'true'));
    expect(email).toHaveAccessibleDescription('must contain exactly one @');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription('must be at least 8 characters');
    expect(screen.getByLabelText('Name')).not.toHaveAttribute('aria-invalid');
  });

  it('a taken email is said at the email field', async () => {
    api.on('POST', '/api/auth/register', problem(409, 'an account with this email already exists'));
    renderWithStore(<RegisterPage />, { route: '/register', path: '/register' });
    await userEvent.type(screen.getByLabelText('Name'), 'Ada');
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password123');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('An account with this email already exists'),
    );
  });

  it('registers and logs in', async () => {
    api.on('POST', '/api/auth/register', { status: 201, body: authAnswer('new') });
    const { store } = renderWithStore(<RegisterPage />, { route: '/register', path: '/register' });
    await userEvent.type(screen.getByLabelText('Name'), ' Ada ');
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password123');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(store.getState().auth.token).toBe('new'));
    expect(api.calls[0]!.body).toEqual({ name: 'Ada', email: 'ada@example.com', password: 'password123' });
  });
});

describe('CartPage', () => {
  const [a, b] = [product(1, { name: 'Lamp', price_cents: 2500 }), product(2, { name: 'Mug', price_cents: 900 })];

  it('lists the lines with totals; + and Remove change the cart', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([{ p: a, quantity: 2 }, { p: b, quantity: 1 }]) });
    api.on('PUT', `/api/cart/items/${a.id}`, (c) => ({
      status: 200,
      body: cart([{ p: a, quantity: (c.body as { quantity: number }).quantity }, { p: b, quantity: 1 }]),
    }));
    api.on('DELETE', `/api/cart/items/${b.id}`, { status: 200, body: cart([{ p: a, quantity: 3 }]) });
    renderWithStore(<CartPage />, { auth: session() });
    const lines = await screen.findAllByTestId('cart-line');
    expect(lines).toHaveLength(2);
    expect(within(lines[0]!).getByText('$50.00')).toBeInTheDocument();
    expect(screen.getByTestId('summary-count')).toHaveTextContent('3');
    await userEvent.click(screen.getByRole('button', { name: 'One more Lamp' }));
    await waitFor(() => expect(screen.getByTestId('summary-count')).toHaveTextContent('4'));
    expect(api.callsTo('PUT', `/api/cart/items/${a.id}`)[0]!.body).toEqual({ quantity: 3 });
    await userEvent.click(screen.getByRole('button', { name: 'Remove Mug' }));
    await waitFor(() => expect(screen.getAllByTestId('cart-line')).toHaveLength(1));
  });

  it('typing a quantity sets it; over the stock the detail is shown', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([{ p: a, quantity: 2 }]) });
    api.on('PUT', `/api/cart/items/${a.id}`, problem(409, 'only 5 of Lamp in stock'));
    renderWithStore(
      <>
        <CartPage />
        <Toasts />
      </>,
      { auth: session() },
    );
    const input = await screen.findByLabelText('Quantity of Lamp');
    fireEvent.change(input, { target: { value: '9' } });
    expect(api.callsTo('PUT', `/api/cart/items/${a.id}`)).toHaveLength(0); // not while typing
    fireEvent.blur(input);
    expect(await screen.findByText('Only 5 of Lamp in stock')).toBeInTheDocument();
    expect(api.callsTo('PUT', `/api/cart/items/${a.id}`)[0]!.body).toEqual({ quantity: 9 });
    // the field shows the cart's quantity again
    expect(input).toHaveValue(2);
    fireEvent.change(input, { target: { value: '150' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(await screen.findByText('A quantity is a whole number from 0 to 99.')).toBeInTheDocument();
    expect(api.callsTo('PUT', `/api/cart/items/${a.id}`)).toHaveLength(1);
  });

  it('says when the price changed and when prices are the stored ones', async () => {
    const c = cart([{ p: a, quantity: 1 }]);
    c.items[0]!.added_price_cents = 2000;
    c.prices = 'stored';
    api.on('GET', '/api/cart', { status: 200, body: c });
    renderWithStore(<CartPage />, { auth: session() });
    expect(await screen.findByText(/The price changed since you added it/)).toHaveTextContent('$20.00');
    expect(screen.getByText(/cannot be checked right now/)).toBeInTheDocument();
  });

  it('an empty cart invites to shop', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([]) });
    renderWithStore(<CartPage />, { auth: session() });
    expect(await screen.findByText('Your cart is empty')).toBeInTheDocument();
  });
});

describe('CheckoutPage', () => {
  const p = product(1, { name: 'Lamp', price_cents: 2500 });
  const fill = async () => {
    await userEvent.clear(screen.getByLabelText('Full name'));
    await userEvent.type(screen.getByLabelText('Full name'), 'Ada Lovelace');
    await userEvent.type(screen.getByLabelText('Address'), '1 Main St');
    await userEvent.type(screen.getByLabelText('City'), 'London');
    await userEvent.type(screen.getByLabelText('Postal code'), 'N1 9GU');
    await userEvent.clear(screen.getByLabelText('Country'));
    await userEvent.type(screen.getByLabelText('Country'), 'gb');
  };

  it('places the order with the chosen card and an Idempotency-Key, then shows it', async () => {
    const c = cart([{ p, quantity: 2 }]);
    api.on('GET', '/api/cart', { status: 200, body: c });
    api.on('POST', '/api/orders', { status: 201, body: order('pending', c) });
    renderWithStore(<CheckoutPage />, { auth: session(), route: '/checkout', path: '/checkout' });
    await screen.findByText('2 × Lamp');
    await fill();
    await userEvent.click(screen.getByLabelText(/Visa ending 0002/));
    await userEvent.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(location()).toBe(`/orders/${order('pending', c).id}`));
    const post = api.callsTo('POST', '/api/orders')[0]!;
    expect(post.body).toEqual({
      payment_token: 'tok_chargeDeclined',
      shipping_address: { name: 'Ada Lovelace', line1: '1 Main St', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
    });
    expect(post.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts the API’s field errors under the fields; a retry of the same body keeps its key', async () => {
    const c = cart([{ p, quantity: 1 }]);
    api.on('GET', '/api/cart', { status: 200, body: c });
    api.on(
      'POST',
      '/api/orders',
      problem(400, 'the order is invalid', [
        { field: 'shipping_address.city', message: 'must be 1 to 100 characters' },
        { field: 'shipping_address.country', message: 'must be an ISO 3166-1 alpha-2 code such as DE or US' },
      ]),
    );
    renderWithStore(<CheckoutPage />, { auth: session(), route: '/checkout', path: '/checkout' });
    await screen.findByText('1 × Lamp');
    await userEvent.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() =>
      expect(screen.getByLabelText('City')).toHaveAccessibleDescription('must be 1 to 100 characters'),
    );
    expect(screen.getByLabelText('Country')).toHaveAccessibleDescription(
      'must be an ISO 3166-1 alpha-2 code such as DE or US',
    );
    expect(screen.getByLabelText('Address')).not.toHaveAttribute('aria-invalid');
    await userEvent.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(api.callsTo('POST', '/api/orders')).toHaveLength(2));
    const [k1, k2] = api.callsTo('POST', '/api/orders').map((c) => c.headers.get('Idempotency-Key'));
    expect(k1).toBe(k2);
    await userEvent.type(screen.getByLabelText('City'), 'London');
    await userEvent.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(api.callsTo('POST', '/api/orders')).toHaveLength(3));
    expect(api.callsTo('POST', '/api/orders')[2]!.headers.get('Idempotency-Key')).not.toBe(k1);
  });

  it('not enough stock: the detail names the product, with a way to the cart', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([{ p, quantity: 1 }]) });
    api.on('POST', '/api/orders', problem(409, 'only 0 of Lamp left'));
    renderWithStore(<CheckoutPage />, { auth: session(), route: '/checkout', path: '/checkout' });
    await screen.findByText('1 × Lamp');
    await fill();
    await userEvent.click(screen.getByRole('button', { name: 'Place order' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Only 0 of Lamp left');
    expect(within(alert).getByRole('link', { name: 'Review your cart' })).toHaveAttribute('href', '/cart');
  });
});

describe('OrderPage', () => {
  const c = cart([{ p: product(1, { name: 'Lamp' }), quantity: 1 }]);

  it('polls while pending, then says the order is confirmed, with its payment and email', async () => {
    let reads = 0;
    const id = order('pending', c).id;
    api.on('GET', `/api/orders/${id}`, () => ({ status: 200, body: order(++reads < 3 ? 'pending' : 'confirmed', c) }));
    api.on('GET', '/api/payments', {
      status: 200,
      body: {
        items: [
          {
            id: 'p1',
            order_id: id,
            user_id: 'u',
            amount_cents: c.total_cents,
            currency: 'USD',
            status: 'succeeded',
            failure_reason: null,
            provider_ref: 'mock_ch_123',
            created_at: '2026-12-01T10:00:01Z',
          },
        ],
        page: 1,
        page_size: 20,
        total: 1,
      },
    });
    api.on('GET', '/api/emails', {
      status: 200,
      body: {
        items: [
          {
            id: 'e1',
            user_id: 'u',
            to: 'ada@example.com',
            kind: 'order_confirmed',
            subject: 'Your order is confirmed',
            order_id: id,
            status: 'sent',
            attempts: 1,
            created_at: '2026-12-01T10:00:01Z',
            sent_at: '2026-12-01T10:00:02Z',
          },
        ],
        page: 1,
        page_size: 20,
        total: 1,
      },
    });
    renderWithStore(<OrderPage />, { auth: session(), route: `/orders/${id}`, path: '/orders/:id' });
    expect(await screen.findByText(/processing your payment/)).toBeInTheDocument();
    expect(screen.getByTestId('order-status')).toHaveTextContent('Processing');
    await waitFor(() => expect(screen.getByTestId('order-status')).toHaveTextContent('Confirmed'), { timeout: 5000 });
    expect(reads).toBe(3);
    expect(screen.getByText('Your order is confirmed')).toBeInTheDocument();
    expect(await screen.findByText('mock_ch_123')).toBeInTheDocument();
    expect(await screen.findByText(/Order confirmation/)).toBeInTheDocument();
    expect(api.callsTo('GET', '/api/payments')[0]!.search.get('order_id')).toBe(id);
    // final: no more polling
    await new Promise((r) => setTimeout(r, 1200));
    expect(reads).toBe(3);
  });

  it('a failed payment says why, plainly', async () => {
    const failed = order('failed', c);
    api.on('GET', `/api/orders/${failed.id}`, { status: 200, body: failed });
    api.on('GET', '/api/payments', { status: 200, body: { items: [], page: 1, page_size: 20, total: 0 } });
    api.on('GET', '/api/emails', { status: 200, body: { items: [], page: 1, page_size: 20, total: 0 } });
    renderWithStore(<OrderPage />, { auth: session(), route: `/orders/${failed.id}`, path: '/orders/:id' });
    expect(await screen.findByText('Your payment failed')).toBeInTheDocument();
    expect(screen.getByText(/the card was declined/)).toBeInTheDocument();
    expect(screen.getByTestId('order-status')).toHaveTextContent('Failed');
  });

  it('another user’s or an unknown order: not found', async () => {
    api.on('GET', /^\/api\/orders\/.+/, problem(404, 'no such order'));
    renderWithStore(<OrderPage />, { auth: session(), route: '/orders/nope', path: '/orders/:id' });
    expect(await screen.findByRole('heading', { name: 'Order not found' })).toBeInTheDocument();
  });
});

describe('OrdersPage', () => {
  it('lists the orders, newest first as the API sends them', async () => {
    const c = cart([{ p: product(1), quantity: 2 }]);
    api.on('GET', '/api/orders', {
      status: 200,
      body: {
        items: [order('confirmed', c, { id: 'aaaaaaaa-0000-4000-8000-000000000001' }), order('failed', c, { id: 'bbbbbbbb-0000-4000-8000-000000000002' })],
        page: 1,
        page_size: 10,
        total: 2,
      },
    });
    renderWithStore(<OrdersPage />, { auth: session() });
    const rows = await screen.findAllByTestId('order-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText('aaaaaaaa')).toBeInTheDocument();
    expect(within(rows[0]!).getByTestId('order-status')).toHaveTextContent('Confirmed');
    expect(within(rows[1]!).getByTestId('order-status')).toHaveTextContent('Failed');
    expect(within(rows[0]!).getByText('2 items')).toBeInTheDocument();
  });
});
