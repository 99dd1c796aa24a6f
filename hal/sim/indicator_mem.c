/*
 * Sim indicators: each output's mode is an atomic int in memory, so the
 * firmware's threads set it and a test or the technician's sim page reads
 * it without a lock. Only a change is logged (at debug), so a caller that
 * re-sets the same mode every loop does not flood the log.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#include "fw/log.h"
#include "hal_sim/indicator_mem.h"

#define MOD "sim-indicator"

static const struct hal_indicator_ops sim_indicator_ops;

static const char *const id_names[HAL_IND_COUNT] = {
	[HAL_IND_STATUS] = "status",
	[HAL_IND_UPLINK] = "uplink",
	[HAL_IND_ALERT] = "alert",
	[HAL_IND_BUZZER] = "buzzer",
};

static const char *const mode_names[] = {
	[HAL_IND_OFF] = "off",
	[HAL_IND_ON] = "on",
	[HAL_IND_BLINK_SLOW] = "blink-slow",
	[HAL_IND_BLINK_FAST] = "blink-fast",
};

static struct sim_indicator *to_si(struct hal_indicator *ind)
{
	if (ind == NULL || ind->ops != &sim_indicator_ops) {
		return NULL;
	}
	return ind->priv;
}

static int mem_set(struct hal_indicator *ind, enum hal_indicator_id id,
		   enum hal_indicator_mode mode)
{
	struct sim_indicator *si = to_si(ind);
	int old;

	if (si == NULL || (unsigned)mode > HAL_IND_BLINK_FAST) {
		return -EINVAL;
	}
	if ((unsigned)id >= HAL_IND_COUNT) {
		return -ENODEV;
	}
	old = atomic_exchange(&si->modes[id], (int)mode);
	if (old != (int)mode) {
		log_dbg(MOD, "%s: %s -> %s", id_names[id], mode_names[old], mode_names[mode]);
	}
	return 0;
}

static const struct hal_indicator_ops sim_indicator_ops = {
	.set = mem_set,
};

void sim_indicator_init(struct sim_indicator *si)
{
	for (int i = 0; i < HAL_IND_COUNT; i++) {
		atomic_init(&si->modes[i], HAL_IND_OFF);
	}
	si->dev.ops = &sim_indicator_ops;
	si->dev.priv = si;
}

int sim_indicator_get(struct hal_indicator *ind, enum hal_indicator_id id,
		      enum hal_indicator_mode *mode)
{
	struct sim_indicator *si = to_si(ind);

	if (si == NULL || mode == NULL || (unsigned)id >= HAL_IND_COUNT) {
		return -EINVAL;
	}
	*mode = (enum hal_indicator_mode)atomic_load(&si->modes[id]);
	return 0;
}
