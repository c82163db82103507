#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* Longest name in a subject, in bytes (cut on a character boundary). */
#define SUBJECT_NAME_MAX 80

static const struct {
	const char *code, *words;
} reasons[] = {
        {"card_declined", "your card was declined"},
        {"insufficient_funds", "your card has insufficient funds"},
        {"amount_limit_exceeded",
         "the amount is above the limit your payment method allows"},
        {"out_of_stock", "an item is no longer in stock"},
};

const char *email_reason_text(const char *code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
		if (code && strcmp(code, reasons[i].code) == 0)
			return reasons[i].words;
	return NULL;
}

int email_format_money(long long cents, const char *currency, char *out,
                       size_t cap)
{
	int n;

	if (cents < 0)
		return -1;
	n = snprintf(out, cap, "%s %lld.%02lld", currency, cents / 100,
	             cents % 100);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void email_short_id(const char *id, char out[9])
{
	size_t i;

	for (i = 0; i < 8 && id[i]; i++)
		out[i] = id[i];
	out[i] = '\0';
}

/* Appends s (n bytes, or all when n is (size_t)-1) with control
 * characters blanked. */
static void add_clean(struct textbuf *b, const char *s, size_t n)
{
	size_t len = strlen(s);

	if (n > len)
		n = len;
	for (size_t i = 0; i < n;) {
		size_t run = i;

		while (run < n && (unsigned char)s[run] >= 0x20 &&
		       (unsigned char)s[run] != 0x7f)
			run++;
		textbuf_add(b, s + i, run - i);
		if (run < n) {
			textbuf_add(b, " ", 1);
			run++;
		}
		i = run;
	}
}

/* How many bytes of s to keep to have at most max, not cutting a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static void subject_of(struct textbuf *b, const struct email_event_data *d)
{
	char id[9];

	switch (d->kind) {
	case EMAIL_WELCOME: {
		size_t keep = utf8_cut(d->name, SUBJECT_NAME_MAX);

		textbuf_puts(b, "Welcome to Shop, ");
		add_clean(b, d->name, keep);
		if (keep < strlen(d->name))
			textbuf_puts(b, "...");
		return;
	}
	case EMAIL_ORDER_CONFIRMED:
		email_short_id(d->order_id, id);
		textbuf_printf(b, "Your order %s is confirmed", id);
		return;
	case EMAIL_ORDER_FAILED:
		email_short_id(d->order_id, id);
		textbuf_printf(b, "Your order %s could not be completed", id);
		return;
	}
}

static void lines_of(struct textbuf *b, const struct email_event_data *d)
{
	char unit[64], line[64], total[64];

	for (size_t i = 0; i < d->nlines; i++) {
		const struct email_line *l = &d->lines[i];

		/* validated: quantity <= 10^6, price <= 10^12 */
		email_format_money(l->unit_price_cents, d->currency, unit,
		                   sizeof(unit));
		email_format_money(l->quantity * l->unit_price_cents,
		                   d->currency, line, sizeof(line));
		textbuf_printf(b, "  %lld x ", l->quantity);
		add_clean(b, l->name, (size_t)-1);
		textbuf_puts(b, " (");
		add_clean(b, l->sku, (size_t)-1);
		textbuf_printf(b, ")\n      %s each: %s\n", unit, line);
	}
	email_format_money(d->total_cents, d->currency, total, sizeof(total));
	textbuf_printf(b, "\nTotal: %s\n", total);
}

static void text_of(struct textbuf *b, const struct email_event_data *d)
{
	const char *words;

	switch (d->kind) {
	case EMAIL_WELCOME:
		textbuf_puts(b, "Hello ");
		add_clean(b, d->name, (size_t)-1);
		textbuf_puts(b, ",\n\nwelcome to Shop! Your account ");
		textbuf_puts(b, d->to);
		textbuf_puts(b, " is ready: browse the catalog, fill your "
		                "cart and check out\nwhenever you like.\n");
		break;
	case EMAIL_ORDER_CONFIRMED:
		textbuf_printf(b,
		               "Hello,\n\nthank you for your order. The "
		               "payment went through and order\n%s is "
		               "confirmed.\n\n",
		               d->order_id);
		lines_of(b, d);
		break;
	case EMAIL_ORDER_FAILED:
		words = email_reason_text(d->reason);
		textbuf_printf(b,
		               "Hello,\n\nwe are sorry: order %s could not be "
		               "completed\nbecause ",
		               d->order_id);
		if (words) {
			textbuf_puts(b, words);
		} else {
			textbuf_puts(b, "of '");
			add_clean(b, d->reason, (size_t)-1);
			textbuf_puts(b, "'");
		}
		textbuf_puts(b, ". No payment was taken and the items were "
		                "released.\n\nThe order was:\n\n");
		lines_of(b, d);
		textbuf_puts(b, "\nYou are welcome to place it again at any "
		                "time.\n");
		break;
	}
	textbuf_puts(b, "\n-- \nShop\n");
}

int email_render(const struct email_event_data *d, struct email_content *out)
{
	struct textbuf sb, tb;
	char *subject, *text;

	textbuf_init(&sb);
	textbuf_init(&tb);
	subject_of(&sb, d);
	text_of(&tb, d);
	subject = textbuf_take(&sb, NULL);
	text = textbuf_take(&tb, NULL);
	if (!subject || !text) {
		free(subject);
		free(text);
		return -1;
	}
	out->subject = subject;
	out->text = text;
	return 0;
}

void email_content_release(struct email_content *c)
{
	free(c->subject);
	free(c->text);
	c->subject = NULL;
	c->text = NULL;
}
