// The shapes of API.md, as the daemons answer them.

export interface Page<T> {
  items: T[];
  page: number;
  page_size: number;
  total: number;
}

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  currency: string;
  image_url: string;
  stock: number;
  created_at: string;
  updated_at: string;
}

export interface Category {
  slug: string;
  name: string;
  product_count: number;
}

export type ProductSort = 'relevance' | 'name' | 'price_asc' | 'price_desc' | 'newest';

export interface ProductQuery {
  q?: string;
  category?: string;
  sort?: ProductSort;
  page?: number;
  page_size?: number;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: 'customer' | 'admin';
  created_at: string;
}

export interface AuthAnswer {
  user: User;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface CartLine {
  product_id: string;
  sku: string;
  name: string;
  unit_price_cents: number;
  quantity: number;
  line_total_cents: number;
  /** cart only: the price when the line was last added or changed */
  added_price_cents?: number;
  /** cart only: false once the product left the catalog */
  available?: boolean;
}

export interface Cart {
  items: CartLine[];
  item_count: number;
  total_cents: number;
  currency: string;
  updated_at: string | null;
  /** "stored" when the product service could not be asked for today's prices */
  prices?: 'current' | 'stored';
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postal_code: string;
  country: string;
}

export type OrderStatus = 'pending' | 'confirmed' | 'failed';

export interface Order {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: CartLine[];
  total_cents: number;
  currency: string;
  shipping_address: ShippingAddress;
  payment: { status: string; payment_id: string | null; failure_reason: string | null } | null;
  status_history: { status: OrderStatus; at: string }[];
  created_at: string;
  updated_at: string;
}

export interface Payment {
  id: string;
  order_id: string;
  user_id: string;
  amount_cents: number;
  currency: string;
  status: 'succeeded' | 'declined';
  failure_reason: string | null;
  provider_ref: string | null;
  created_at: string;
}

export interface Email {
  id: string;
  user_id: string;
  to: string;
  kind: 'welcome' | 'order_confirmed' | 'order_failed';
  subject: string;
  order_id: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  created_at: string;
  sent_at: string | null;
}

// RFC 9457 problem+json, as every daemon and the gateway send it.
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}
