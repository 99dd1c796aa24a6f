/*
 * Indicators on Linux LED class devices. Each set() writes the LED's
 * trigger first and then its brightness or blink delays, because the
 * kernel creates delay_on/delay_off only once the "timer" trigger is
 * active, and writing brightness 0 would remove a trigger. Files are
 * opened without O_CREAT: a missing LED is -ENODEV, never a stray file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal_linux/leds_sysfs.h"

#define MOD "leds"

static const struct hal_indicator_ops linux_leds_ops;

static struct linux_leds *to_ll(struct hal_indicator *ind)
{
	if (ind == NULL || ind->ops != &linux_leds_ops) {
		return NULL;
	}
	return ind->priv;
}

static int attr_path(const struct linux_leds *ll, enum hal_indicator_id id, const char *attr,
		     char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s/%s", ll->base, ll->names[id], attr);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_attr(const struct linux_leds *ll, enum hal_indicator_id id, const char *attr,
		      const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	if (attr_path(ll, id, attr, path, sizeof(path)) != 0) {
		return -EIO;
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			log_warn(MOD, "%s missing: LED %s not present on this board", path,
				 ll->names[id]);
			return -ENODEV;
		}
		log_err(MOD, "cannot open %s: %s", path, strerror(errno));
		return -EIO;
	}
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		log_err(MOD, "cannot write \"%s\" to %s: %s", value, path,
			n < 0 ? strerror(errno) : "short write");
		close(fd);
		return -EIO;
	}
	if (close(fd) != 0) {
		log_err(MOD, "writing \"%s\" to %s failed: %s", value, path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* max_brightness of the LED, 1 when it cannot be read (gpio LEDs are 0/1). */
static long max_brightness(const struct linux_leds *ll, enum hal_indicator_id id)
{
	char path[PATH_MAX];
	char buf[16];
	ssize_t n;
	long v;
	int fd;

	if (attr_path(ll, id, "max_brightness", path, sizeof(path)) != 0) {
		return 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 1;
	}
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v >= 1 && v <= 65535 ? v : 1;
}

static int blink(const struct linux_leds *ll, enum hal_indicator_id id, int ms)
{
	char val[16];
	int ret;

	snprintf(val, sizeof(val), "%d", ms);
	ret = write_attr(ll, id, "trigger", "timer");
	if (ret == 0) {
		ret = write_attr(ll, id, "delay_on", val);
	}
	if (ret == 0) {
		ret = write_attr(ll, id, "delay_off", val);
	}
	return ret;
}

static int leds_set(struct hal_indicator *ind, enum hal_indicator_id id,
		    enum hal_indicator_mode mode)
{
	struct linux_leds *ll = to_ll(ind);
	char val[16];
	int ret;

	if (ll == NULL || (unsigned)mode > HAL_IND_BLINK_FAST) {
		return -EINVAL;
	}
	if ((unsigned)id >= HAL_IND_COUNT || ll->names[id][0] == '\0') {
		return -ENODEV;
	}
	switch (mode) {
	case HAL_IND_OFF:
		ret = write_attr(ll, id, "trigger", "none");
		if (ret == 0) {
			ret = write_attr(ll, id, "brightness", "0");
		}
		break;
	case HAL_IND_ON:
		snprintf(val, sizeof(val), "%ld", max_brightness(ll, id));
		ret = write_attr(ll, id, "trigger", "none");
		if (ret == 0) {
			ret = write_attr(ll, id, "brightness", val);
		}
		break;
	case HAL_IND_BLINK_SLOW:
		ret = blink(ll, id, LINUX_LEDS_SLOW_MS);
		break;
	case HAL_IND_BLINK_FAST:
	default:
		ret = blink(ll, id, LINUX_LEDS_FAST_MS);
		break;
	}
	return ret;
}

static const struct hal_indicator_ops linux_leds_ops = {
	.set = leds_set,
};

static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	return len < LINUX_LEDS_NAME_MAX && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

int linux_leds_init(struct linux_leds *ll, const char *base_dir,
		    const char *const names[HAL_IND_COUNT])
{
	if (ll == NULL || base_dir == NULL || base_dir[0] == '\0' || names == NULL ||
	    strlen(base_dir) >= sizeof(ll->base) - 2 * LINUX_LEDS_NAME_MAX) {
		return -EINVAL;
	}
	for (int i = 0; i < HAL_IND_COUNT; i++) {
		if (names[i] != NULL && !name_ok(names[i])) {
			return -EINVAL;
		}
	}
	memset(ll, 0, sizeof(*ll));
	snprintf(ll->base, sizeof(ll->base), "%s", base_dir);
	for (int i = 0; i < HAL_IND_COUNT; i++) {
		if (names[i] != NULL) {
			snprintf(ll->names[i], sizeof(ll->names[i]), "%s", names[i]);
		}
	}
	ll->dev.ops = &linux_leds_ops;
	ll->dev.priv = ll;
	return 0;
}
