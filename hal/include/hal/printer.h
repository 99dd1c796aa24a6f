/*
 * Receipt printer (ESC/POS). A job is handed over whole and print() returns
 * only when the printer has taken all of it and reports no fault, so a
 * ticket can be counted as issued only once it is really on paper.
 */
#ifndef HAL_PRINTER_H
#define HAL_PRINTER_H

#include <stddef.h>
#include <stdint.h>

struct hal_printer;

/* Largest job print() accepts (a long order slip with a QR code is ~10 KiB). */
#define HAL_PRINTER_JOB_MAX (1024 * 1024)

enum hal_printer_state {
	HAL_PRINTER_READY = 0,
	HAL_PRINTER_PAPER_LOW, /* prints, but paper is running out */
	HAL_PRINTER_PAPER_OUT,
	HAL_PRINTER_COVER_OPEN,
	HAL_PRINTER_OFFLINE, /* no answer, unplugged, powered off */
	HAL_PRINTER_ERROR,   /* cutter jam, overheating, other fault */
};

struct hal_printer_ops {
	/* @retval 0 and *state filled; -EIO when the status cannot be read */
	int (*status)(struct hal_printer *p, enum hal_printer_state *state);
	/*
	 * Print one job.
	 * @retval 0 the whole job was accepted and the printer reports no fault
	 * @retval -ENOSPC out of paper, -EBUSY cover open, -ENODEV offline,
	 *         -EIO any other fault, -ETIMEDOUT the printer stopped taking data
	 * @retval -EINVAL empty job or longer than HAL_PRINTER_JOB_MAX
	 * Any error means the job must be counted as not printed (part of it
	 * may be on paper when the fault came during the job).
	 */
	int (*print)(struct hal_printer *p, const uint8_t *job, size_t len);
};

struct hal_printer {
	const struct hal_printer_ops *ops;
	void *priv;
};

static inline int hal_printer_status(struct hal_printer *p, enum hal_printer_state *state)
{
	return p->ops->status(p, state);
}

static inline int hal_printer_print(struct hal_printer *p, const uint8_t *job, size_t len)
{
	return p->ops->print(p, job, len);
}

/*
 * The error print() returns for a printer in this state.
 * @retval 0 ready (also paper low), -ENOSPC paper out, -EBUSY cover open,
 *         -ENODEV offline, -EIO any other fault
 */
int hal_printer_state_errno(enum hal_printer_state state);

/* A short English name for a state, for logs ("paper-out"). */
const char *hal_printer_state_name(enum hal_printer_state state);

#endif /* HAL_PRINTER_H */
