/*
 * The queue ticket as one ESC/POS job, and printing it. The key decision is
 * that a ticket is issued only on paper: print_ticket() asks the printer's
 * status first and sends nothing when it shows a fault, then hands the
 * whole job to hal_printer_print(), which returns only once the printer has
 * taken it without a fault. Every error maps to one of the contract's
 * errnos so the queue can void the number and tell the citizen why.
 * Layout (58 mm and 80 mm rolls, all centred) is described in
 * docs/printing.md; the job is built on the stack, never allocated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/log.h"
#include "print/escpos.h"
#include "print/ticket.h"

#define MOD "print"

/* Module size of the QR code in dots: ~25 mm wide for a short code at 203 dpi. */
#define QR_MODULE 6
/* Dots fed past the last line before the partial cut. */
#define CUT_FEED 48

static bool printable_ascii(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

static bool text_ok(const char *s, size_t max, bool required)
{
	size_t n;

	if (s == NULL) {
		return !required;
	}
	n = strnlen(s, max + 1);
	return n <= max && (n > 0 || !required);
}

static bool ticket_valid(const struct print_ticket *t)
{
	return t != NULL && text_ok(t->office_name, PRINT_TICKET_OFFICE_MAX, true) &&
	       text_ok(t->service_zh, PRINT_TICKET_SERVICE_MAX, true) &&
	       text_ok(t->service_en, PRINT_TICKET_SERVICE_MAX, false) && t->number != NULL &&
	       printable_ascii(t->number, PRINT_TICKET_NUMBER_MAX) && t->lookup_code != NULL &&
	       printable_ascii(t->lookup_code, PRINT_TICKET_LOOKUP_MAX) && t->ahead >= 0 &&
	       t->issued_ms >= 0;
}

int print_ticket_render(const struct print_ticket *t, uint8_t *buf, size_t cap)
{
	char line[128];
	struct escpos e;
	struct tm tm;
	time_t secs;

	if (!ticket_valid(t) || buf == NULL) {
		return -EINVAL;
	}
	secs = (time_t)(t->issued_ms / 1000);
	if (localtime_r(&secs, &tm) == NULL) {
		return -EINVAL;
	}

	escpos_job_begin(&e, buf, cap);

	escpos_bold(&e, true);
	escpos_line(&e, t->office_name);
	escpos_bold(&e, false);
	escpos_feed(&e, 1);

	escpos_size(&e, 2, 2);
	escpos_line(&e, t->service_zh);
	escpos_size(&e, 1, 1);
	if (t->service_en != NULL && t->service_en[0] != '\0') {
		escpos_line(&e, t->service_en);
	}
	escpos_feed(&e, 1);

	escpos_bold(&e, true);
	escpos_size(&e, 6, 6);
	escpos_line(&e, t->number);
	escpos_size(&e, 1, 1);
	escpos_bold(&e, false);
	escpos_feed(&e, 1);

	snprintf(line, sizeof(line), "前面还有 %d 人", t->ahead);
	escpos_line(&e, line);
	snprintf(line, sizeof(line), "%d %s ahead", t->ahead, t->ahead == 1 ? "person" : "people");
	escpos_line(&e, line);
	strftime(line, sizeof(line), "%Y-%m-%d %H:%M", &tm);
	escpos_line(&e, line);

	if (t->priority) {
		escpos_feed(&e, 1);
		escpos_bold(&e, true);
		escpos_size(&e, 2, 2);
		escpos_line(&e, "绿色通道");
		escpos_size(&e, 1, 1);
		escpos_line(&e, "Priority lane");
		escpos_bold(&e, false);
	}
	escpos_feed(&e, 1);

	escpos_qr(&e, t->lookup_code, strlen(t->lookup_code), QR_MODULE, ESCPOS_QR_EC_M);
	escpos_feed(&e, 1);
	snprintf(line, sizeof(line), "扫码或在自助机输入查询码 %s 查看进度", t->lookup_code);
	escpos_line(&e, line);
	snprintf(line, sizeof(line), "Scan, or enter code %s at the kiosk", t->lookup_code);
	escpos_line(&e, line);
	return escpos_job_end(&e, CUT_FEED);
}

int print_ready(struct hal_printer *p, const char *what)
{
	enum hal_printer_state state;
	int ret = hal_printer_status(p, &state);

	if (ret != 0) {
		log_warn(MOD, "%s not printed: cannot read the printer status (%s)", what,
			 strerror(ret < 0 ? -ret : EIO));
		return -EIO;
	}
	ret = hal_printer_state_errno(state);
	if (ret != 0) {
		log_warn(MOD, "%s not printed: printer is %s", what, hal_printer_state_name(state));
		return ret;
	}
	if (state == HAL_PRINTER_PAPER_LOW) {
		log_warn(MOD, "printer paper is running low; put in a new roll soon");
	}
	return 0;
}

int print_send(struct hal_printer *p, const uint8_t *job, size_t len, const char *what)
{
	int ret = hal_printer_print(p, job, len);

	if (ret == 0) {
		return 0;
	}
	log_warn(MOD, "%s not printed: %s; check the printer", what,
		 strerror(ret < 0 ? -ret : EIO));
	switch (ret) {
	case -ENOSPC:
	case -EBUSY:
	case -ENODEV:
	case -EIO:
	case -ETIMEDOUT:
		return ret;
	default:
		return -EIO;
	}
}

int print_ticket(struct hal_printer *p, const struct print_ticket *t)
{
	uint8_t job[PRINT_TICKET_MAX];
	char what[32];
	int ret;
	int n;

	if (p == NULL || p->ops == NULL || t == NULL) {
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "ticket %.8s", t->number != NULL ? t->number : "?");
	ret = print_ready(p, what);
	if (ret != 0) {
		return ret;
	}
	n = print_ticket_render(t, job, sizeof(job));
	if (n < 0) {
		log_err(MOD, "%s not printed: cannot render it (%s)", what, strerror(-n));
		return n;
	}
	return print_send(p, job, (size_t)n, what);
}
