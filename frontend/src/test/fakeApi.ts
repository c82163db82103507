import { vi } from 'vitest';

/**
 * A fake of the platform's HTTP API for unit tests of the slices and the
 * components: routes "METHOD /path" to a handler, records every request.
 * The page's code runs unchanged: RTK Query's fetchBaseQuery calls the
 * global fetch, which this replaces.
 */
export interface Call {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'network-error';
type Handler = (call: Call) => Answer | Promise<Answer>;

export class FakeApi {
  calls: Call[] = [];
  private routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  on(method: string, path: string | RegExp, handler: Handler | Answer): this {
    const pattern = typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
    this.routes.unshift({ method, pattern, handler: typeof handler === 'function' ? handler : () => handler });
    return this;
  }

  callsTo(method: string, path: string | RegExp): Call[] {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)),
    );
  }

  install(): void {
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => this.fetch(input, init));
  }

  private async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const req = input instanceof Request ? input : new Request(input, init);
    const url = new URL(req.url);
    const text = await req.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const call: Call = { method: req.method, path: url.pathname, search: url.searchParams, headers: req.headers, body };
    this.calls.push(call);
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    const answer: Answer = route
      ? await route.handler(call)
      : { status: 404, body: { type: 'about:blank', title: 'Not Found', status: 404, detail: `no fake for ${req.method} ${url.pathname}` } };
    if (answer === 'network-error') throw new TypeError('Failed to fetch');
    const isProblem = answer.status >= 400;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: {
        'Content-Type': isProblem ? 'application/problem+json' : 'application/json',
        ...answer.headers,
      },
    });
  }
}

export function problem(status: number, detail: string, errors?: { field: string; message: string }[]) {
  return { status, body: { type: 'about:blank', title: 'Error', status, detail, ...(errors ? { errors } : {}) } };
}
