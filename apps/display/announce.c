/*
 * Announcement text for a call: what the hall display shows and the board's
 * speaker (on sim, espeak-ng) says. The numbers are spoken as written
 * ("A012"), the way a citizen reads them off the ticket; only calls and
 * recalls are announced.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "display/display.h"

int display_announcement(const struct queue_event *ev, const char *lang, char *buf, size_t cap)
{
	int n;

	if (ev == NULL || lang == NULL || buf == NULL || cap == 0) {
		return -EINVAL;
	}
	if ((ev->kind != QEV_CALLED && ev->kind != QEV_RECALLED) ||
	    strnlen(ev->number, sizeof(ev->number)) == 0 ||
	    strnlen(ev->number, sizeof(ev->number)) == sizeof(ev->number) || ev->window_no <= 0) {
		return -EINVAL;
	}
	if (strcmp(lang, "zh") == 0) {
		n = snprintf(buf, cap, "请 %s 号到 %d 号窗口办理", ev->number, ev->window_no);
	} else if (strcmp(lang, "en") == 0) {
		n = snprintf(buf, cap, "Number %s, please go to window %d", ev->number,
			     ev->window_no);
	} else {
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -ENOBUFS;
	}
	return n;
}
