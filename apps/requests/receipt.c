/*
 * The receipt a citizen takes home after filing a request: one ESC/POS job
 * (text in GB18030, a native QR code holding the lookup code) built on the
 * stack, printed through the hal_printer, which confirms the job. Unlike a
 * queue ticket, a receipt is not what makes the request exist: the request
 * is filed first, and a failed print only means the screen shows the code
 * and staff can print it again. The contact appears masked, or not at all
 * when the citizen asked to hide their identity.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fw/log.h"
#include "orders/workcal.h"
#include "print/escpos.h"
#include "print/ticket.h"
#include "requests_internal.h"

/* Module size of the QR code in dots (about 20 mm for an 8-character code at 203 dpi). */
#define QR_MODULE 6
#define CUT_FEED  48

void requests_local_day(int64_t wall_ms, int utc_offset_min, char out[11])
{
	workcal_format_date(workcal_day_of_ms(wall_ms, utc_offset_min), out);
}

static bool text_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strnlen(s, max + 1) <= max;
}

int requests_receipt_render(const struct request_receipt *rc, uint8_t *buf, size_t cap)
{
	char line[256], when[17];
	struct escpos e;

	if (rc == NULL || buf == NULL || !text_ok(rc->office_name, REQ_OFFICE_MAX) ||
	    !text_ok(rc->number, REQ_NUMBER_MAX) || !text_ok(rc->category_zh, 32) ||
	    !text_ok(rc->category_en, 32) || !text_ok(rc->field_zh, 32) ||
	    !text_ok(rc->lookup_code, REQ_LOOKUP_LEN) || rc->filed_ms < 0 ||
	    (rc->contact != NULL &&
	     strnlen(rc->contact, PII_NAME_MAX + PII_PHONE_MAX) >= PII_NAME_MAX + PII_PHONE_MAX)) {
		return -EINVAL;
	}
	workcal_format_time(rc->filed_ms, rc->utc_offset_min, when);

	escpos_job_begin(&e, buf, cap);
	escpos_bold(&e, true);
	escpos_line(&e, rc->office_name);
	escpos_size(&e, 2, 2);
	escpos_line(&e, "诉求受理回执");
	escpos_size(&e, 1, 1);
	escpos_bold(&e, false);
	escpos_line(&e, "Request receipt");
	escpos_feed(&e, 1);

	escpos_align(&e, ESCPOS_LEFT);
	snprintf(line, sizeof(line), "受理编号 No.: %s", rc->number);
	escpos_line(&e, line);
	snprintf(line, sizeof(line), "诉求类别: %s / %s", rc->category_zh, rc->category_en);
	escpos_line(&e, line);
	snprintf(line, sizeof(line), "诉求领域: %s", rc->field_zh);
	escpos_line(&e, line);
	snprintf(line, sizeof(line), "受理时间 Time: %s", when);
	escpos_line(&e, line);
	if (rc->anonymous) {
		escpos_line(&e, "联系人: （匿名） / anonymous");
	} else if (rc->contact != NULL && rc->contact[0] != '\0') {
		snprintf(line, sizeof(line), "联系方式 Contact: %s", rc->contact);
		escpos_line(&e, line);
	}
	escpos_feed(&e, 1);

	escpos_align(&e, ESCPOS_CENTER);
	escpos_line(&e, "查询码 Lookup code");
	escpos_bold(&e, true);
	escpos_size(&e, 3, 3);
	escpos_line(&e, rc->lookup_code);
	escpos_size(&e, 1, 1);
	escpos_bold(&e, false);
	escpos_qr(&e, rc->lookup_code, strlen(rc->lookup_code), QR_MODULE, ESCPOS_QR_EC_M);
	escpos_line(&e, "扫码或在自助机“进度查询”输入查询码");
	escpos_line(&e, "Scan, or enter the code under Check progress");
	escpos_feed(&e, 1);

	escpos_align(&e, ESCPOS_LEFT);
	escpos_line(&e, "首接负责：本受理点负责办理您的诉求，直至答复您或移交市12345热线。");
	escpos_line(&e, "First-contact responsibility: this office owns your request until it "
			"answers you or hands it over to the city 12345 hotline.");
	escpos_line(&e, "请妥善保管本回执。Please keep this receipt.");
	return escpos_job_end(&e, CUT_FEED);
}

int requests_receipt_print(struct hal_printer *p, const struct request_receipt *rc)
{
	uint8_t job[REQ_RECEIPT_MAX];
	char what[REQ_NUMBER_MAX + 16];
	int ret, n;

	if (p == NULL || p->ops == NULL) {
		return -ENODEV;
	}
	snprintf(what, sizeof(what), "receipt %s", rc->number);
	ret = print_ready(p, what);
	if (ret != 0) {
		return ret;
	}
	n = requests_receipt_render(rc, job, sizeof(job));
	if (n < 0) {
		log_err(MOD, "%s not printed: cannot render it (%s)", what, strerror(-n));
		return n;
	}
	return print_send(p, job, (size_t)n, what);
}
