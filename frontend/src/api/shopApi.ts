import {
  createApi,
  fetchBaseQuery,
  type BaseQueryFn,
  type FetchArgs,
  type FetchBaseQueryError,
} from '@reduxjs/toolkit/query/react';
import { sessionEnded, type AuthState } from '../features/auth/authSlice';
import { apiReachable, apiUnreachable, type UiState } from '../features/ui/uiSlice';
import { isUnreachable, messageOf } from '../lib/problem';
import type {
  AuthAnswer,
  Cart,
  Category,
  Email,
  Order,
  Page,
  Payment,
  Product,
  ProductQuery,
  ShippingAddress,
  User,
} from './types';

type State = { auth: AuthState; ui: UiState };

const REQUEST_TIMEOUT_MS = 15000;

// Same origin as the page (the gateway serves both); absolute, so that the
// unit tests' fetch (Node's) can resolve it too.
const BASE_URL = typeof window !== 'undefined' && window.location?.origin ? `${window.location.origin}/` : '/';

const rawBaseQuery = fetchBaseQuery({
  baseUrl: BASE_URL,
  timeout: REQUEST_TIMEOUT_MS,
  prepareHeaders(headers, { getState }) {
    const token = (getState() as State).auth.token;
    if (token && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
    return headers;
  },
});

/**
 * Every request goes through here: a 401 on a request that carried a token
 * ends the session (expired or revoked: the shopper is sent to log in, with
 * a message); a request that cannot reach the platform raises the "shop
 * unreachable" banner, and the next one that gets through lowers it.
 */
export const baseQuery: BaseQueryFn<string | FetchArgs, unknown, FetchBaseQueryError> = async (
  args,
  api,
  extra,
) => {
  const state = api.getState() as State;
  const token = state.auth.token;
  const expiresAt = state.auth.expiresAt;
  const startedAt = Date.now();
  const result = await rawBaseQuery(args, api, extra);
  const now = api.getState() as State;
  if (result.error && result.error.status === 401 && token && now.auth.token === token) {
    api.dispatch(sessionEnded({ expired: !!expiresAt && expiresAt <= Date.now() + 5000 }));
  } else if (result.error && isUnreachable(result.error)) {
    api.dispatch(apiUnreachable(messageOf(result.error), startedAt));
  } else if (now.ui.apiDown) {
    api.dispatch(apiReachable(startedAt));
  }
  return result;
};

function productParams(q: ProductQuery): Record<string, string> {
  const p: Record<string, string> = {};
  if (q.q && q.q.trim()) p.q = q.q.trim();
  if (q.category) p.category = q.category;
  if (q.sort) p.sort = q.sort;
  if (q.page && q.page > 1) p.page = String(q.page);
  p.page_size = String(q.page_size ?? 12);
  return p;
}

export interface PlaceOrderArgs {
  payment_token: string;
  shipping_address: ShippingAddress;
  idempotencyKey: string;
}

/** The cart the cart service will hold once it has taken an order's lines
 * out (it does so when order.created reaches it, a moment later). */
export function cartWithout(cart: Cart, order: Order): Cart {
  const ordered = new Map(order.items.map((l) => [l.product_id, l.quantity]));
  const items = cart.items
    .map((l) => {
      const q = l.quantity - (ordered.get(l.product_id) ?? 0);
      return { ...l, quantity: q, line_total_cents: q * l.unit_price_cents };
    })
    .filter((l) => l.quantity > 0);
  return {
    ...cart,
    items,
    item_count: items.reduce((n, l) => n + l.quantity, 0),
    total_cents: items.reduce((n, l) => n + l.line_total_cents, 0),
  };
}

export const shopApi = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['Cart', 'Order', 'Me', 'Product'],
  endpoints: (b) => ({
    // ---------------------------------------------------------- catalog
    getProducts: b.query<Page<Product>, ProductQuery>({
      query: (q) => ({ url: 'api/products', params: productParams(q) }),
      providesTags: ['Product'],
    }),
    getProduct: b.query<Product, string>({
      query: (id) => `api/products/${encodeURIComponent(id)}`,
      providesTags: (_r, _e, id) => [{ type: 'Product', id }],
    }),
    getCategories: b.query<{ items: Category[] }, void>({
      query: () => 'api/categories',
    }),

    // ---------------------------------------------------------- accounts
    register: b.mutation<AuthAnswer, { email: string; password: string; name: string }>({
      query: (body) => ({ url: 'api/auth/register', method: 'POST', body }),
    }),
    login: b.mutation<AuthAnswer, { email: string; password: string }>({
      query: (body) => ({ url: 'api/auth/login', method: 'POST', body }),
    }),
    logout: b.mutation<void, void>({
      query: () => ({ url: 'api/auth/logout', method: 'POST' }),
    }),
    me: b.query<User, void>({
      query: () => 'api/users/me',
      providesTags: ['Me'],
    }),

    // ---------------------------------------------------------- cart
    getCart: b.query<Cart, void>({
      query: () => 'api/cart',
      providesTags: ['Cart'],
    }),
    addToCart: b.mutation<Cart, { product_id: string; quantity: number }>({
      query: (body) => ({ url: 'api/cart/items', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(shopApi.util.upsertQueryData('getCart', undefined, data));
        } catch {
          /* the caller shows the error */
        }
      },
      invalidatesTags: (_r, _e, a) => [{ type: 'Product', id: a.product_id }],
    }),
    setQuantity: b.mutation<Cart, { product_id: string; quantity: number }>({
      query: ({ product_id, quantity }) => ({
        url: `api/cart/items/${encodeURIComponent(product_id)}`,
        method: 'PUT',
        body: { quantity },
      }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(shopApi.util.upsertQueryData('getCart', undefined, data));
        } catch {
          /* the caller shows the error */
        }
      },
    }),
    removeLine: b.mutation<Cart, string>({
      query: (product_id) => ({ url: `api/cart/items/${encodeURIComponent(product_id)}`, method: 'DELETE' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(shopApi.util.upsertQueryData('getCart', undefined, data));
        } catch {
          /* the caller shows the error */
        }
      },
    }),
    clearCart: b.mutation<void, void>({
      query: () => ({ url: 'api/cart', method: 'DELETE' }),
      invalidatesTags: ['Cart'],
    }),

    // ---------------------------------------------------------- orders
    placeOrder: b.mutation<Order, PlaceOrderArgs>({
      query: ({ idempotencyKey, ...body }) => ({
        url: 'api/orders',
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data: order } = await queryFulfilled;
          dispatch(shopApi.util.upsertQueryData('getOrder', order.id, order));
          // The cart service takes the ordered lines out when order.created
          // reaches it: show that now, and read the real cart a moment later.
          dispatch(shopApi.util.updateQueryData('getCart', undefined, (c) => cartWithout(c, order)));
          setTimeout(() => dispatch(shopApi.util.invalidateTags(['Cart'])), 1500);
          dispatch(shopApi.util.invalidateTags([{ type: 'Order', id: 'LIST' }, 'Product']));
        } catch {
          /* the caller shows the error */
        }
      },
    }),
    getOrders: b.query<Page<Order>, { page: number; page_size?: number }>({
      query: ({ page, page_size = 10 }) => ({ url: 'api/orders', params: { page, page_size } }),
      providesTags: [{ type: 'Order', id: 'LIST' }],
    }),
    getOrder: b.query<Order, string>({
      query: (id) => `api/orders/${encodeURIComponent(id)}`,
      providesTags: (_r, _e, id) => [{ type: 'Order', id }],
    }),
    getPayments: b.query<Page<Payment>, string>({
      query: (orderId) => ({ url: 'api/payments', params: { order_id: orderId } }),
    }),
    getEmails: b.query<Page<Email>, string>({
      query: (orderId) => ({ url: 'api/emails', params: { order_id: orderId } }),
    }),
  }),
});

export const {
  useGetProductsQuery,
  useGetProductQuery,
  useGetCategoriesQuery,
  useRegisterMutation,
  useLoginMutation,
  useLogoutMutation,
  useMeQuery,
  useGetCartQuery,
  useAddToCartMutation,
  useSetQuantityMutation,
  useRemoveLineMutation,
  useClearCartMutation,
  usePlaceOrderMutation,
  useGetOrdersQuery,
  useGetOrderQuery,
  useGetPaymentsQuery,
  useGetEmailsQuery,
} = shopApi;
