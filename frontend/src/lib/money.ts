const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, locale?: string): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, f);
  }
  return f;
}

/**
 * Formats an integer amount of minor units ("cents") in its currency:
 * formatMoney(14999, 'USD') is "$149.99", formatMoney(500, 'JPY') "¥500".
 * The number of minor units per major unit comes from the currency itself.
 */
export function formatMoney(cents: number, currency: string, locale = 'en-US'): string {
  let f: Intl.NumberFormat;
  try {
    f = formatter(currency || 'USD', locale);
  } catch {
    // not an ISO 4217 code: show the number and the code as they are
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(cents / 10 ** digits);
}
