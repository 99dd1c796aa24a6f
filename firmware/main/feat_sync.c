/*
 * Feature "sync with the city": the store-and-forward worker (apps/sync,
 * docs/sync-protocol.md) and its routes. It runs when the city is
 * configured ([city] address and hostname), the device identity is
 * complete (key, certificate, the city's CA under DATA_DIR/keys/) and the
 * uplink is up. Otherwise the office works on, everything it writes waits
 * in the outbox, and the sync status says in plain words what is missing
 * and what to do. The main loop kicks the worker whenever the uplink's
 * carrier returns (main.c, watch_uplink).
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "fw/identity.h"
#include "fw/log.h"
#include "hal/net.h"
#include "sync/routes.h"
#include "sync/sync.h"

#define MOD "main"

struct off_reason {
	const char *code;
	const char *en;
	const char *zh;
};

static const struct off_reason OFF_NOT_CONFIGURED = {
	"not_configured",
	"No city platform is configured. A technician sets [city] address and hostname in the "
	"configuration file and restarts the appliance; until then everything is kept here.",
	"尚未配置市平台。请技术人员在配置文件的 [city] 中设置 address 和 hostname 后重启设备；"
	"在此之前所有数据都保存在本机。",
};
static const struct off_reason OFF_NO_IDENTITY = {
	"no_identity",
	"The device certificate or the city's CA certificate is not installed. A technician "
	"runs `hotline-edge admin csr`, has the city sign it, then `admin install-ca` and "
	"`admin install-cert`, and restarts; until then everything is kept here.",
	"设备证书或市平台 CA 证书尚未安装。请技术人员运行 `hotline-edge admin csr`，交市平台签发后"
	"运行 `admin install-ca` 和 `admin install-cert` 并重启；在此之前所有数据都保存在本机。",
};
static const struct off_reason OFF_NO_UPLINK = {
	"no_uplink",
	"The uplink port has no address, so the city cannot be reached. A technician sets "
	"[uplink] address, netmask and gateway and restarts; until then everything is kept here.",
	"上行网口没有地址，无法连接市平台。请技术人员设置 [uplink] 的 address、netmask 和 "
	"gateway 后重启；在此之前所有数据都保存在本机。",
};
static const struct off_reason OFF_FAILED = {
	"start_failed",
	"The sync worker could not be started; see the log. Everything is kept here.",
	"同步程序未能启动，请查看日志。所有数据都保存在本机。",
};

static const char *uplink_state(void *arg)
{
	struct app *a = arg;

	return !a->uplink_started ? "off" : net_is_up() ? "up" : "down";
}

/* NULL when the worker can run, else why not. */
static const struct off_reason *why_off(struct app *a)
{
	struct identity_status id;

	if (a->cfg.city_ip == 0 || a->cfg.city_hostname[0] == '\0') {
		return &OFF_NOT_CONFIGURED;
	}
	identity_status(a->devs.paths.data_dir, &id);
	if (!id.key_present || !id.cert_present || id.ca_count == 0 ||
	    id.state == IDENTITY_CERT_DAMAGED || id.state == IDENTITY_MISMATCH) {
		return &OFF_NO_IDENTITY;
	}
	if (!a->uplink_started) {
		return &OFF_NO_UPLINK;
	}
	return NULL;
}

static int start_worker(struct app *a)
{
	struct sync_params sp = {
		.data_dir = a->devs.paths.data_dir,
		.clock = a->devs.clock,
		.city_ip = a->cfg.city_ip,
		.city_port = (uint16_t)a->cfg.city_port,
		.city_host = a->cfg.city_hostname,
		.orders = a->orders,
		.cal = a->cal,
		.requests = a->requests,
	};
	int rc = sync_create(&sp, &a->sync);

	if (rc == 0) {
		rc = sync_start(a->sync);
	}
	if (rc < 0) {
		sync_destroy(a->sync);
		a->sync = NULL;
	}
	return rc;
}

int feat_sync_start(struct app *a)
{
	const struct off_reason *off = why_off(a);
	struct sync_routes_params rp = {
		.data_dir = a->devs.paths.data_dir,
		.clock = a->devs.clock,
		.city_ip = a->cfg.city_ip,
		.city_port = (uint16_t)a->cfg.city_port,
		.city_host = a->cfg.city_hostname,
		.uplink_state = uplink_state,
		.uplink_arg = a,
	};
	int rc;

	if (off == NULL) {
		rc = start_worker(a);
		if (rc < 0) {
			log_err(MOD,
				"the sync with the city could not be started (%s); work is kept "
				"here and sent once it runs",
				strerror(-rc));
			off = &OFF_FAILED;
		} else {
			log_info(MOD, "syncing with the city platform %s (port %d)",
				 a->cfg.city_hostname, a->cfg.city_port);
		}
	}
	if (off != NULL) {
		log_warn(MOD, "sync with the city is off: %s", off->en);
		rp.off_code = off->code;
		rp.off_en = off->en;
		rp.off_zh = off->zh;
	}
	rp.sync = a->sync;
	rc = sync_routes_create(&rp, &a->sync_routes);
	if (rc == 0) {
		rc = sync_routes_register(&a->kiosk, a->sync_routes);
	}
	if (rc < 0) {
		log_err(MOD, "the sync status could not be served: %s", strerror(-rc));
		feat_sync_stop(a);
	}
	return rc;
}

void feat_sync_stop(struct app *a)
{
	sync_destroy(a->sync);
	a->sync = NULL;
	sync_routes_destroy(a->sync_routes);
	a->sync_routes = NULL;
}

void feat_sync_uplink_up(struct app *a)
{
	if (a->sync != NULL) {
		sync_kick(a->sync);
	}
}
