/*
 * Watchdog: resets the board when the firmware stops kicking it. The main
 * loop kicks it; a hung loop therefore ends in a reboot, which is the
 * point. stop() disarms it (only on a clean shutdown).
 */
#ifndef HAL_WATCHDOG_H
#define HAL_WATCHDOG_H

#define HAL_WATCHDOG_TIMEOUT_MAX_S 3600

struct hal_watchdog;

struct hal_watchdog_ops {
	/*
	 * Arm with a timeout in seconds (1..3600), or re-arm with a new one.
	 * @retval 0 armed
	 * @retval -EINVAL timeout out of range
	 * @retval -ENODEV no watchdog device
	 * @retval -EIO the device refused
	 */
	int (*start)(struct hal_watchdog *w, int timeout_s);
	/* @retval 0 kicked, -EIO the device refused the keep-alive, -EBADF not started */
	int (*kick)(struct hal_watchdog *w);
	/* Disarm (magic close); safe to call when not started. */
	void (*stop)(struct hal_watchdog *w);
};

struct hal_watchdog {
	const struct hal_watchdog_ops *ops;
	void *priv;
};

static inline int hal_watchdog_start(struct hal_watchdog *w, int timeout_s)
{
	return w->ops->start(w, timeout_s);
}

static inline int hal_watchdog_kick(struct hal_watchdog *w)
{
	return w->ops->kick(w);
}

static inline void hal_watchdog_stop(struct hal_watchdog *w)
{
	w->ops->stop(w);
}

#endif /* HAL_WATCHDOG_H */
