/**
 * One Idempotency-Key per distinct checkout: the same body sent again (a
 * retry after a timeout, a double click) reuses the key, so the order
 * service answers the same order instead of placing a second; a changed
 * body gets a new key (the same key with another body is a 422).
 */
export class IdempotencyKeys {
  private body: string | null = null;
  private key: string | null = null;

  constructor(private readonly newKey: () => string = () => crypto.randomUUID()) {}

  keyFor(body: unknown): string {
    const json = JSON.stringify(body);
    if (json !== this.body || !this.key) {
      this.body = json;
      this.key = this.newKey();
    }
    return this.key;
  }
}
