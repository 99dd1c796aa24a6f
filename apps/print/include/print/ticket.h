/*
 * The walk-in queue ticket: rendered to ESC/POS bytes (text in GB18030 for
 * Chinese receipt printers, a native QR code with the lookup code) and
 * printed through a hal_printer, whose print() confirms the job. A ticket
 * counts as issued only when print_ticket() returns 0.
 */
#ifndef PRINT_TICKET_H
#define PRINT_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/printer.h"

/* Room that always holds a ticket with the longest accepted fields. */
#define PRINT_TICKET_MAX 2048

/* Longest accepted fields, in bytes of UTF-8 (number/lookup in ASCII). */
#define PRINT_TICKET_OFFICE_MAX	 128
#define PRINT_TICKET_SERVICE_MAX 128
#define PRINT_TICKET_NUMBER_MAX	 7
#define PRINT_TICKET_LOOKUP_MAX	 32

struct print_ticket {
	const char *office_name; /* UTF-8, e.g. "某某县12345便民服务大厅" */
	const char *service_zh;	 /* UTF-8 */
	const char *service_en;	 /* UTF-8; NULL or "" to leave the line out */
	const char *number;	 /* "A012" */
	int ahead;		 /* people ahead, >= 0 */
	int64_t issued_ms;	 /* wall clock, ms since the epoch; printed in local time */
	const char *lookup_code; /* printable ASCII; encoded in the QR code */
	bool priority;		 /* 绿色通道 / Priority lane */
};

/*
 * Render a ticket as one ESC/POS job into buf (no allocation): init, Chinese
 * mode, office name, service (Chinese, English below in small text), the
 * number very large, people ahead, issue time, the priority-lane line when
 * set, a QR code of the lookup code, the lookup hint, feed and partial cut.
 * @retval >0 bytes written (never more than cap)
 * @retval -EINVAL a required field is NULL/empty, too long or out of range
 * @retval -EILSEQ text that is not valid UTF-8 or has no GB18030 form
 * @retval -ENOBUFS the job does not fit in cap bytes (buf content undefined)
 */
int print_ticket_render(const struct print_ticket *t, uint8_t *buf, size_t cap);

/*
 * Check the printer's status, then render and print the ticket; nothing is
 * sent when the status shows a fault.
 * @retval 0 printed and confirmed by the printer
 * @retval -ENOSPC paper out, -EBUSY cover open, -ENODEV offline,
 *         -EIO other fault (or the status cannot be read),
 *         -ETIMEDOUT the printer stopped taking data
 * @retval -EINVAL, -EILSEQ, -ENOBUFS as print_ticket_render() (nothing sent)
 * Any error: the ticket must be counted as not printed.
 */
int print_ticket(struct hal_printer *p, const struct print_ticket *t);

/*
 * The two halves of printing any slip, shared by the ticket, the request
 * receipt and the work-order slip. `what` names the slip in the log
 * ("ticket A012"); every failure is logged once, here.
 *
 * print_ready(): the printer's status, asked before a job is sent (a faulty
 * printer gets nothing). Paper low is ready (and logged).
 * @retval 0 ready; -ENOSPC paper out, -EBUSY cover open, -ENODEV offline,
 *         -EIO another fault or the status cannot be read
 * print_send(): hand one rendered job to the printer, which confirms it.
 * @retval 0 printed; -ENOSPC, -EBUSY, -ENODEV, -ETIMEDOUT as the printer
 *         said, -EIO for anything else
 * The printer must not be NULL (callers decide what a missing one means).
 */
int print_ready(struct hal_printer *p, const char *what);
int print_send(struct hal_printer *p, const uint8_t *job, size_t len, const char *what);

#endif /* PRINT_TICKET_H */
