import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeApi, problem } from '../test/fakeApi';
import { cart, product, session } from '../test/fixtures';
import { renderWithStore } from '../test/render';
import { ApiBanner } from './ApiBanner';
import { ErrorBoundary } from './ErrorBoundary';
import { Header, SEARCH_DEBOUNCE_MS } from './Header';
import { Pagination } from './Pagination';
import { RequireAuth } from './RequireAuth';
import { ProductCard } from './ProductCard';
import { Toasts } from './Toasts';
import { CatalogPage } from '../pages/CatalogPage';
import { apiUnreachable } from '../features/ui/uiSlice';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  api.install();
});
afterEach(() => vi.unstubAllGlobals());

const location = () => screen.getByTestId('location').textContent;

describe('Header', () => {
  it('shows the cart count of the logged-in shopper', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([{ p: product(1), quantity: 3 }, { p: product(2), quantity: 2 }]) });
    renderWithStore(<Header />, { auth: session() });
    await waitFor(() => expect(screen.getByTestId('cart-count')).toHaveTextContent('5'));
    expect(screen.getByRole('link', { name: 'Cart, 5 items' })).toBeInTheDocument();
    expect(screen.getByText('Ada Lovelace')).toBeInTheDocument();
  });

  it('logged out: no cart request, log in and sign up links', () => {
    renderWithStore(<Header />);
    expect(screen.getByTestId('cart-count')).toHaveTextContent('0');
    expect(screen.getByRole('link', { name: 'Log in' })).toBeInTheDocument();
    expect(api.callsTo('GET', '/api/cart')).toHaveLength(0);
  });

  it('searches as you type, once the typing stops', async () => {
    const user = userEvent.setup();
    renderWithStore(<Header />, { route: '/?category=audio' });
    await user.type(screen.getByRole('searchbox', { name: 'Search products' }), 'hedph');
    // still typing: the URL has not moved
    expect(location()).toBe('/?category=audio');
    await waitFor(() => expect(location()).toBe('/?category=audio&q=hedph'), { timeout: SEARCH_DEBOUNCE_MS * 5 });
  });

  it('logs out: the server is told, the session is gone', async () => {
    api.on('GET', '/api/cart', { status: 200, body: cart([]) });
    api.on('POST', '/api/auth/logout', { status: 204 });
    const { store } = renderWithStore(<Header />, { auth: session() });
    await userEvent.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(store.getState().auth.token).toBeNull());
    expect(api.callsTo('POST', '/api/auth/logout')).toHaveLength(1);
  });
});

describe('ProductCard', () => {
  it('shows the price from cents, the stock, and a link to the product', () => {
    renderWithStore(<ProductCard product={product(7, { name: 'Lamp', price_cents: 14999, stock: 3 })} />);
    expect(screen.getByText('$149.99')).toBeInTheDocument();
    expect(screen.getByText('Only 3 left')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Lamp/ })).toHaveAttribute('href', `/products/${product(7).id}`);
    // no image: a labelled placeholder, never a broken <img>
    expect(screen.getByRole('img', { name: 'Lamp' })).toBeInTheDocument();
  });

  it('sold out: the button says so and is disabled', () => {
    renderWithStore(<ProductCard product={product(1, { stock: 0 })} />);
    expect(screen.getByRole('button', { name: /sold out/i })).toBeDisabled();
  });

  it('adding while logged out goes to log in and back', async () => {
    renderWithStore(<ProductCard product={product(1)} />, { route: '/?q=lamp' });
    await userEvent.click(screen.getByRole('button', { name: 'Add Product 1 to cart' }));
    expect(location()).toBe(`/login?next=${encodeURIComponent('/?q=lamp')}`);
  });

  it('adds to the cart and the badge follows; a refusal shows its detail', async () => {
    const p = product(1);
    api.on('GET', '/api/cart', { status: 200, body: cart([]) });
    api.on('POST', '/api/cart/items', { status: 200, body: cart([{ p, quantity: 1 }]) });
    renderWithStore(
      <>
        <Header />
        <ProductCard product={p} />
        <Toasts />
      </>,
      { auth: session() },
    );
    await waitFor(() => expect(api.callsTo('GET', '/api/cart')).toHaveLength(1));
    await userEvent.click(screen.getByRole('button', { name: 'Add Product 1 to cart' }));
    await waitFor(() => expect(screen.getByTestId('cart-count')).toHaveTextContent('1'));

    api.on('POST', '/api/cart/items', problem(409, 'only 1 of Product 1 in stock'));
    await userEvent.click(screen.getByRole('button', { name: 'Add Product 1 to cart' }));
    expect(await screen.findByText('Only 1 of Product 1 in stock')).toBeInTheDocument();
  });
});

describe('Pagination', () => {
  it('numbers the pages around the current one and moves', async () => {
    const onPage = vi.fn();
    renderWithStore(<Pagination page={5} pageSize={10} total={95} onPage={onPage} />);
    expect(screen.getByRole('button', { name: 'Page 5' })).toHaveAttribute('aria-current', 'page');
    for (const n of [1, 4, 6, 10]) expect(screen.getByRole('button', { name: `Page ${n}` })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Page 2' })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: /Next/ }));
    expect(onPage).toHaveBeenCalledWith(6);
  });
  it('one page: nothing to show', () => {
    const { container } = renderWithStore(<Pagination page={1} pageSize={10} total={3} onPage={() => {}} />);
    expect(container.querySelector('.pagination')).toBeNull();
  });
});

describe('CatalogPage', () => {
  const page = (items: ReturnType<typeof product>[], total = items.length, pageNo = 1) => ({
    status: 200,
    body: { items, page: pageNo, page_size: 12, total },
  });

  it('shows the products, filters by category, pages', async () => {
    api.on('GET', '/api/categories', {
      status: 200,
      body: { items: [{ slug: 'audio', name: 'Audio', product_count: 14 }, { slug: 'books', name: 'Books', product_count: 8 }] },
    });
    api.on('GET', '/api/products', (c) =>
      c.search.get('category') === 'books' ? page([product(3, { name: 'A Book' })]) : page([product(1), product(2)], 30),
    );
    renderWithStore(<CatalogPage />);
    expect(await screen.findByText('Product 1')).toBeInTheDocument();
    expect(screen.getByTestId('result-count')).toHaveTextContent('30 products');
    await userEvent.click(await screen.findByRole('button', { name: 'Books' }));
    expect(await screen.findByText('A Book')).toBeInTheDocument();
    expect(location()).toBe('/?category=books');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Books');
  });

  it('a search with nothing found says so and offers the whole catalog', async () => {
    api.on('GET', '/api/categories', { status: 200, body: { items: [] } });
    api.on('GET', '/api/products', page([]));
    renderWithStore(<CatalogPage />, { route: '/?q=zzzz' });
    expect(await screen.findByText('No products found')).toBeInTheDocument();
    expect(screen.getByText(/Nothing matches “zzzz”/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Show all products' }));
    expect(location()).toBe('/');
  });

  it('a failed request shows the problem’s detail and retries', async () => {
    api.on('GET', '/api/categories', { status: 200, body: { items: [] } });
    api.on('GET', '/api/products', problem(400, 'page_size must be between 1 and 100'));
    renderWithStore(<CatalogPage />);
    expect(await screen.findByText('Page_size must be between 1 and 100')).toBeInTheDocument();
    api.on('GET', '/api/products', page([product(1)]));
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Product 1')).toBeInTheDocument();
  });
});

describe('ApiBanner', () => {
  it('appears when the platform is unreachable and Retry asks again', async () => {
    api.on('GET', '/api/categories', 'network-error');
    api.on('GET', '/api/products', 'network-error');
    renderWithStore(
      <>
        <ApiBanner />
        <CatalogPage />
      </>,
    );
    expect(await screen.findByText(/having trouble/)).toBeInTheDocument();
    api.on('GET', '/api/categories', { status: 200, body: { items: [] } });
    api.on('GET', '/api/products', { status: 200, body: { items: [product(1)], page: 1, page_size: 12, total: 1 } });
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Product 1')).toBeInTheDocument();
    expect(screen.queryByText(/having trouble/)).toBeNull();
  });

  it('hidden while all is well', () => {
    const { store } = renderWithStore(<ApiBanner />);
    expect(screen.queryByRole('alert')).toBeNull();
    act(() => {
      store.dispatch(apiUnreachable('The shop cannot be reached.'));
    });
    expect(screen.getByRole('alert')).toHaveTextContent('The shop cannot be reached.');
  });
});

describe('RequireAuth', () => {
  it('sends a visitor to log in, with the way back', () => {
    renderWithStore(
      <RequireAuth>
        <p>secret</p>
      </RequireAuth>,
      { route: '/orders/abc', path: '/orders/:id' },
    );
    expect(screen.queryByText('secret')).toBeNull();
    expect(location()).toBe(`/login?next=${encodeURIComponent('/orders/abc')}`);
  });
  it('lets a shopper through', () => {
    renderWithStore(
      <RequireAuth>
        <p>secret</p>
      </RequireAuth>,
      { auth: session() },
    );
    expect(screen.getByText('secret')).toBeInTheDocument();
  });
});

describe('ErrorBoundary', () => {
  it('a render error shows a way back instead of a blank page', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    function Boom(): never {
      throw new Error('kaboom');
    }
    renderWithStore(
      <ErrorBoundary>
        <Boom />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('heading', { name: 'Something went wrong on this page' })).toBeInTheDocument();
    expect(screen.getByText('kaboom')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to the shop' })).toHaveAttribute('href', '/');
    spy.mockRestore();
  });
});

// keep fireEvent imported for the quantity tests in pages.test.tsx' style
void fireEvent;
