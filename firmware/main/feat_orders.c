/*
 * Feature "work orders": the working-day calendar (seeded with the built-in
 * years on a new device), the deadline rules ([orders] deadline_preset,
 * count_from, sign_for_days, and rules_file when set), and the orders
 * service with its routes (docs/orders.md). A rules file that cannot be
 * read or is not valid stops the start: deadlines computed from a table
 * other than the one the office configured would be wrong without anyone
 * noticing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "fw/log.h"
#include "orders/calstore.h"
#include "orders/orders.h"

#define MOD	       "orders"
#define RULES_FILE_MAX (256 * 1024)
#define CAL_REFRESH_MS 60000

static int read_rules_file(const char *path, struct deadline_rules *rules)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	char *text = NULL;
	long len = -1;
	FILE *f;
	int ret;

	f = fopen(path, "rb");
	if (f == NULL) {
		log_err(MOD,
			"the deadline rules file %s cannot be opened: %s; fix [orders] "
			"rules_file in the config file or put the file back",
			path, strerror(errno));
		return -ENOENT;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= RULES_FILE_MAX &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) != NULL &&
	    fread(text, 1, (size_t)len, f) != (size_t)len) {
		len = -1;
	}
	fclose(f);
	if (text == NULL || len < 0 || len > RULES_FILE_MAX) {
		free(text);
		log_err(MOD, "the deadline rules file %s cannot be read (at most %d KB)", path,
			RULES_FILE_MAX / 1024);
		return -EINVAL;
	}
	text[len] = '\0';
	ret = deadline_rules_parse(text, (size_t)len, rules, en, zh);
	free(text);
	if (ret < 0) {
		log_err(MOD,
			"the deadline rules file %s is not valid (%s); the appliance does not "
			"start with wrong deadlines: correct the file (docs/working-days.md, "
			"\"The rules file\") or clear [orders] rules_file",
			path, en);
	}
	return ret;
}

static void cal_tick(struct loop_timer *t, void *arg)
{
	struct app *a = arg;

	(void)t;
	if (a->cal != NULL) {
		calstore_refresh(a->cal);
	}
}

static struct loop_timer cal_timer;
static bool cal_timer_on;

int feat_orders_start(struct app *a)
{
	struct orders_params p;
	char path[4096 + CONFIG_STR_MAX + 2];
	int ret;

	ret = calstore_open(a->devs.paths.data_dir, a->devs.clock, &a->cal);
	if (ret < 0) {
		log_err(MOD, "the working-day calendar could not be opened: %s", strerror(-ret));
		return ret;
	}
	calstore_set_utc_offset(a->cal, a->cfg.queue_utc_offset_min);
	ret = calstore_seed_builtin(a->cal);
	if (ret < 0) {
		log_warn(MOD,
			 "the built-in calendar years could not all be loaded (%s); import "
			 "them with `hotline-edge admin calendar-import`",
			 strerror(-ret));
	}
	deadline_preset(a->cfg.orders_deadline_preset, a->cfg.orders_count_from,
			a->cfg.orders_sign_for_days, &a->rules);
	if (a->cfg.orders_rules_file[0] != '\0') {
		if (a->cfg.orders_rules_file[0] == '/') {
			snprintf(path, sizeof(path), "%s", a->cfg.orders_rules_file);
		} else {
			snprintf(path, sizeof(path), "%s/%s", a->devs.paths.data_dir,
				 a->cfg.orders_rules_file);
		}
		ret = read_rules_file(path, &a->rules);
		if (ret < 0) {
			goto out_cal;
		}
		log_info(MOD, "deadline rules from %s (%d rows)", path, a->rules.nrules);
	}
	memset(&p, 0, sizeof(p));
	p.data_dir = a->devs.paths.data_dir;
	p.clock = a->devs.clock;
	p.printer = a->devs.printer;
	p.cal = a->cal;
	p.rules = &a->rules;
	p.utc_offset_min = a->cfg.queue_utc_offset_min;
	p.due_soon_days = a->cfg.orders_due_soon_days;
	p.attachment_max_kb = a->cfg.orders_attachment_max_kb;
	p.office_name = a->cfg.office_name;
	ret = orders_create(&p, &a->orders);
	if (ret < 0) {
		log_err(MOD, "the work orders could not be started: %s", strerror(-ret));
		goto out_cal;
	}
	ret = calstore_routes_register(&a->kiosk, a->cal);
	if (ret == 0) {
		ret = orders_routes_register(&a->kiosk, a->orders);
	}
	if (ret < 0) {
		log_err(MOD, "the work orders' routes could not be added: %s", strerror(-ret));
		goto out_orders;
	}
	/* the admin command may import a calendar year while the daemon runs */
	loop_timer_start(&a->loop, &cal_timer, CAL_REFRESH_MS, CAL_REFRESH_MS, cal_tick, a);
	cal_timer_on = true;
	return 0;

out_orders:
	orders_destroy(a->orders);
	a->orders = NULL;
out_cal:
	calstore_close(a->cal);
	a->cal = NULL;
	return ret;
}

void feat_orders_stop(struct app *a)
{
	if (cal_timer_on) {
		loop_timer_stop(&a->loop, &cal_timer);
		cal_timer_on = false;
	}
	orders_destroy(a->orders);
	a->orders = NULL;
	calstore_close(a->cal);
	a->cal = NULL;
}
