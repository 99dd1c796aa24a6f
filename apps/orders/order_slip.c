/*
 * The order slip (工单) on the receipt printer (docs/orders.md, "Printing"):
 * office, order number, category and field, deadline, title, content,
 * location, the citizen's contact masked (or nothing at all when the
 * citizen asked to stay hidden), and a QR code of the order number.
 *
 * Decisions: the slip's data is read under the service lock, the job is
 * rendered and printed with no lock held (a slow printer never stops the
 * screens), and the order is marked printed only after the printer took the
 * whole job without a fault. Text is wrapped by display width, a CJK
 * character taking two columns of the paper, so a line never runs over.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/log.h"
#include "fw/pii.h"
#include "fw/store.h"
#include "print/escpos.h"
#include "print/ticket.h"
#include "orders_internal.h"

#define SLIP_JOB_MAX (64 * 1024)
#define QR_MODULE    5
#define CUT_FEED     48

/* What goes on the slip, copied out under the lock. */
struct slip {
	char office[128];
	char number[ORDER_NO_MAX];
	char category_zh[32], field_zh[32];
	bool urgent;
	char due[64];
	char title[ORDER_TITLE_MAX];
	char content[ORDER_CONTENT_MAX];
	char location[ORDER_LOCATION_MAX];
	bool show_contact;
	char name[PII_NAME_MAX * 2];
	char phone[PII_PHONE_MAX * 2];
	char dispatched[40];
};

/* Columns a character takes on the printer: CJK and full-width forms 2. */
static int char_width(uint32_t cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd)) {
		return 2;
	}
	return 1;
}

static int utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static uint32_t utf8_cp(const unsigned char *s, int n)
{
	switch (n) {
	case 2:
		return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
	case 3:
		return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		       (s[2] & 0x3f);
	case 4:
		return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		       ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	default:
		return s[0];
	}
}

/*
 * Print text wrapped to cols columns, after a label on the first line
 * (continuation lines are indented by the label's width). Breaks at a
 * space when an ASCII word would be cut, else anywhere between characters.
 * Tabs and carriage returns become spaces; newlines start a new line.
 */
static void wrapped(struct escpos *e, const char *label, const char *text, int cols)
{
	char line[512];
	const unsigned char *p = (const unsigned char *)text;
	int indent = 0, w = 0, n = 0;

	for (const unsigned char *q = (const unsigned char *)label; *q != '\0';) {
		int k = utf8_len(*q);

		indent += char_width(utf8_cp(q, k));
		q += k;
	}
	if (indent > cols / 2) {
		/* a long label gets a line of its own */
		escpos_line(e, label);
		indent = n = w = 0;
	} else {
		n = snprintf(line, sizeof(line), "%s", label);
		w = indent;
	}
	while (*p != '\0') {
		int k = utf8_len(*p);
		uint32_t cp = utf8_cp(p, k);
		int cw = char_width(cp);

		if (cp == '\n' || w + cw > cols) {
			/* break at the last space of an ASCII run when there is one */
			int cut = -1;

			if (cp != '\n' && cp < 0x80 && cp != ' ') {
				for (int i = n - 1; i > 0 && (unsigned char)line[i] < 0x80; i--) {
					if (line[i] == ' ') {
						cut = i;
						break;
					}
				}
			}
			if (cut > 0 && (size_t)(n - cut) < 64) {
				char rest[64];
				int rl = n - cut - 1;

				memcpy(rest, line + cut + 1, (size_t)rl);
				line[cut] = '\0';
				escpos_line(e, line);
				memset(line, ' ', (size_t)indent);
				memcpy(line + indent, rest, (size_t)rl);
				n = indent + rl;
				w = indent + rl;
			} else {
				line[n] = '\0';
				escpos_line(e, line);
				memset(line, ' ', (size_t)indent);
				n = indent;
				w = indent;
			}
			if (cp == '\n') {
				p += k;
				continue;
			}
		}
		if (cp == '\t' || cp == '\r') {
			line[n++] = ' ';
		} else {
			memcpy(line + n, p, (size_t)k);
			n += k;
		}
		w += cw;
		p += k;
		if ((size_t)n + 8 >= sizeof(line)) {
			line[n] = '\0';
			escpos_line(e, line);
			memset(line, ' ', (size_t)indent);
			n = w = indent;
		}
	}
	if (n > indent || (n > 0 && text[0] == '\0')) {
		line[n] = '\0';
		escpos_line(e, line);
	}
}

static int render(const struct slip *s, int cols, uint8_t *buf, size_t cap)
{
	struct escpos e;
	char line[256];

	escpos_job_begin(&e, buf, cap);
	if (s->office[0] != '\0') {
		escpos_line(&e, s->office);
	}
	escpos_bold(&e, true);
	escpos_size(&e, 2, 2);
	escpos_line(&e, "工 单");
	escpos_size(&e, 1, 1);
	escpos_line(&e, s->number);
	escpos_bold(&e, false);
	escpos_align(&e, ESCPOS_LEFT);
	escpos_feed(&e, 1);
	snprintf(line, sizeof(line), "%s / %s%s", s->category_zh, s->field_zh,
		 s->urgent ? " / 紧急" : "");
	wrapped(&e, "类别：", line, cols);
	wrapped(&e, "派单：", s->dispatched, cols);
	escpos_bold(&e, true);
	wrapped(&e, "时限：", s->due, cols);
	escpos_bold(&e, false);
	wrapped(&e, "标题：", s->title, cols);
	if (s->location[0] != '\0') {
		wrapped(&e, "地点：", s->location, cols);
	}
	if (s->show_contact) {
		if (s->name[0] != '\0') {
			wrapped(&e, "联系人：", s->name, cols);
		}
		if (s->phone[0] != '\0') {
			wrapped(&e, "电话：", s->phone, cols);
		}
	}
	escpos_feed(&e, 1);
	wrapped(&e, "诉求内容：", "", cols);
	wrapped(&e, "", s->content, cols);
	escpos_feed(&e, 1);
	escpos_align(&e, ESCPOS_CENTER);
	escpos_qr(&e, s->number, strlen(s->number), QR_MODULE, ESCPOS_QR_EC_M);
	return escpos_job_end(&e, CUT_FEED);
}

/* Collect the slip of an order (takes the lock). */
static int collect(struct orders *o, int64_t id, struct slip *s)
{
	struct order *ord = malloc(sizeof(*ord));
	struct pii_contact c;
	int64_t dl;
	int ret;

	if (ord == NULL) {
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&o->lock);
	ret = orders_load(o->db, id, ord);
	if (ret == 0 && ord->contact_id > 0 && !ord->hide_identity) {
		memset(&c, 0, sizeof(c));
		if (pii_contact_get(o->db, ord->contact_id, PII_VIEW_MASKED, &c) >= 0 ||
		    c.name[0] != '\0' || c.phone[0] != '\0') {
			snprintf(s->name, sizeof(s->name), "%s", c.name);
			snprintf(s->phone, sizeof(s->phone), "%s", c.phone);
			s->show_contact = !c.hide_identity;
		}
		pii_contact_clear(&c);
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		free(ord);
		return ret;
	}
	snprintf(s->office, sizeof(s->office), "%s", o->office_name);
	snprintf(s->number, sizeof(s->number), "%s", ord->number);
	snprintf(s->category_zh, sizeof(s->category_zh), "%s", order_category_zh(ord->category));
	snprintf(s->field_zh, sizeof(s->field_zh), "%s", order_field_zh(ord->field));
	s->urgent = ord->urgency == ORDER_URG_URGENT;
	dl = orders_running_deadline(ord);
	if (ord->state == ORDER_PENDING && dl > 0) {
		char t[17];

		workcal_format_time(dl, o->utc_offset_min, t);
		snprintf(s->due, sizeof(s->due), "%s 前签收", t);
	} else if (ord->due_ms > 0) {
		workcal_format_time(ord->due_ms, o->utc_offset_min, s->due);
	} else {
		snprintf(s->due, sizeof(s->due), "—");
	}
	workcal_format_time(ord->dispatch_ms, o->utc_offset_min, s->dispatched);
	snprintf(s->title, sizeof(s->title), "%s", ord->title);
	snprintf(s->content, sizeof(s->content), "%s", ord->content);
	snprintf(s->location, sizeof(s->location), "%s", ord->location);
	free(ord);
	return 0;
}

int orders_slip_render(struct orders *o, int64_t id, uint8_t **job, size_t *len)
{
	struct slip *s = malloc(sizeof(*s));
	uint8_t *buf = malloc(SLIP_JOB_MAX);
	int ret;

	*job = NULL;
	*len = 0;
	if (s == NULL || buf == NULL) {
		free(s);
		free(buf);
		return -ENOMEM;
	}
	ret = collect(o, id, s);
	if (ret == 0) {
		ret = render(s, o->paper_columns, buf, SLIP_JOB_MAX);
	}
	memset(s, 0, sizeof(*s)); /* masked contact: still wipe it */
	free(s);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*job = buf;
	*len = (size_t)ret;
	return 0;
}

static void printer_err(int ret, struct orders_err *err)
{
	switch (ret) {
	case -ENOSPC:
		orders_set_err(err,
			       "the printer is out of paper; put in a new roll and print again",
			       "打印机缺纸，请装纸后重新打印");
		break;
	case -EBUSY:
		orders_set_err(err, "the printer cover is open; close it and print again",
			       "打印机盖未关，请关好后重新打印");
		break;
	case -ENODEV:
		orders_set_err(err, "the printer does not answer; check its power and cable",
			       "打印机无响应，请检查电源和连线");
		break;
	case -ETIMEDOUT:
		orders_set_err(err, "the printer stopped taking the job; check it and print again",
			       "打印机停止接收，请检查后重新打印");
		break;
	default:
		orders_set_err(err, "the printer reports a fault; check it and print again",
			       "打印机故障，请检查后重新打印");
	}
}

int orders_print_slip(struct orders *o, const struct orders_actor *who, int64_t id,
		      struct orders_err *err)
{
	uint8_t *job = NULL;
	size_t len = 0;
	char what[48];
	int ret;

	ret = orders_actor_ok(who, err);
	if (ret < 0) {
		return ret;
	}
	ret = orders_slip_render(o, id, &job, &len);
	if (ret == -ENOENT) {
		orders_set_err(err, "no such work order", "没有这张工单");
		return ret;
	}
	if (ret < 0) {
		log_err(MOD, "cannot render the slip of order %" PRId64 ": %s", id, strerror(-ret));
		orders_set_err(err, "the slip could not be prepared", "工单无法生成打印内容");
		return ret == -ENOMEM ? ret : -EIO;
	}
	snprintf(what, sizeof(what), "order slip %" PRId64, id);
	pthread_mutex_lock(&o->print_lock);
	if (o->printer == NULL || o->printer->ops == NULL) {
		log_warn(MOD, "%s not printed: no printer", what);
		ret = -ENODEV;
	} else {
		ret = print_ready(o->printer, what);
		if (ret == 0) {
			ret = print_send(o->printer, job, len, what);
		}
	}
	pthread_mutex_unlock(&o->print_lock);
	free(job);
	if (ret != 0) {
		printer_err(ret, err);
		return ret;
	}
	return orders_mark_printed(o, who, id, err);
}

int orders_print_new(struct orders *o, const struct orders_actor *who, int *printed, int *failed,
		     struct orders_err *err)
{
	int64_t ids[256];
	sqlite3_stmt *st;
	int n = 0, ret;

	*printed = *failed = 0;
	ret = orders_actor_ok(who, err);
	if (ret < 0) {
		return ret;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_prepare(o->db,
			    "SELECT id FROM orders WHERE printed = 0 AND state IN (0, 1, 2, 3, 6) "
			    "ORDER BY dispatch_ms, id LIMIT 256",
			    &st);
	if (ret == 0) {
		while (n < 256 && sqlite3_step(st) == SQLITE_ROW) {
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		return ret;
	}
	for (int i = 0; i < n; i++) {
		ret = orders_print_slip(o, who, ids[i], err);
		if (ret < 0) {
			*failed = n - i;
			return ret;
		}
		(*printed)++;
	}
	return 0;
}
