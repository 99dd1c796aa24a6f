/*
 * Sync figures over the real uplink stack: the sync worker (apps/sync) with
 * its own SQLite connection and HTTPS client, lwIP on the sim slirp wire
 * (10.0.2.2 reaches host loopback), and tools/citysim as the city. Nothing
 * is faked but the wire. Prints figures; asserts nothing about speed.
 *
 *  1. Backlog drain: EVENTS typical outbox events (the shapes the queue,
 *     orders and requests services write) in a fresh data directory,
 *     drained with the default batches and then, from a second data
 *     directory, with batch_events = 1: seconds, events/s, bytes on the wire
 *     per event (Ethernet frames both ways, counted by a pass-through link
 *     in front of the wire) and the ratio to what the link allows. The wire
 *     has no bandwidth setting, so the link's capacity is measured in the
 *     same run: one bulk TCP transfer over lwIP to a sink on host loopback.
 *  2. Link-up to first ack: the wire cut with events waiting and the worker
 *     in backoff; the wire restored and sync_kick() (what the daemon does on
 *     carrier) until sync_status() shows them acknowledged. p50 and max.
 *  3. Peak RSS delta of the drain (VmHWM reset before, read after; under
 *     qemu-user it is the emulator's RSS) and TLS handshake times, full and
 *     resumed, over the same wire.
 *
 *   bench_sync GEN-TEST-PKI CITYSIM-COMMAND...   (the command may start with
 *   an emulator in the cross build)
 * Environment: HE_BENCH_EVENTS (default 10000), HE_BENCH_REPS (default 10).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fw/identity.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "hal/net.h"
#include "hal_sim/wire.h"
#include "sync/httpc.h"
#include "sync/sync.h"
#include "test_city.h"
#include "test_util.h"

#define CITY_HOST  "city.hotline.test"
#define BULK_BYTES (8 * 1024 * 1024)
#define T0_MS	   1795312800000LL /* 2026-11-22 10:00 in UTC+8, the events' times */

static struct test_city_env env;
static struct test_city city;
static char city_data[1200];

/* ---- a pass-through link that counts the bytes of every frame ---------- */

static struct {
	struct hal_link inner; /* the sim wire */
	hal_link_rx_fn rx;
	void *ctx;
	atomic_uint_fast64_t up;   /* bytes of frames the appliance sent */
	atomic_uint_fast64_t down; /* bytes of frames delivered to it */
} cl;

static void cl_rx(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	atomic_fetch_add(&cl.down, len);
	cl.rx(cl.ctx, frame, len);
}

static int cl_start(struct hal_link *l, hal_link_rx_fn rx, void *ctx)
{
	(void)l;
	cl.rx = rx;
	cl.ctx = ctx;
	return hal_link_start(&cl.inner, cl_rx, NULL);
}

static int cl_send(struct hal_link *l, const uint8_t *frame, size_t len)
{
	(void)l;
	atomic_fetch_add(&cl.up, len);
	return hal_link_send(&cl.inner, frame, len);
}

static bool cl_is_up(struct hal_link *l)
{
	(void)l;
	return hal_link_is_up(&cl.inner);
}

static void cl_mac(struct hal_link *l, uint8_t mac[6])
{
	(void)l;
	hal_link_mac(&cl.inner, mac);
}

static void cl_stop(struct hal_link *l)
{
	(void)l;
	hal_link_stop(&cl.inner);
}

static const struct hal_link_ops cl_ops = { cl_start, cl_send, cl_is_up, cl_mac, cl_stop };
static struct hal_link counted = { &cl_ops, NULL };

static uint64_t wire_bytes(void)
{
	return atomic_load(&cl.up) + atomic_load(&cl.down);
}

/* ---- helpers -------------------------------------------------------------- */

static int64_t now_us(void)
{
	return test_mono_us();
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* VmHWM in KiB from /proc/self/status (-1 unknown). */
static long vm_hwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	return kb;
}

/* Reset VmHWM to the current RSS (Linux: "5" to clear_refs). */
static bool hwm_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	bool ok;

	if (f == NULL) {
		return false;
	}
	ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}

/* A data directory as the daemon has it: the store and DATA_DIR/keys. */
static void make_data_dir(char *dir, size_t cap, const char *name)
{
	snprintf(dir, cap, "%s/%s", env.tmp, name);
	if (mkdir(dir, 0700) != 0 || test_city_keys_install(&env, dir, "device") != 0 ||
	    store_init(dir, NULL) < 0) {
		fprintf(stderr, "bench_sync: cannot make %s\n", dir);
		exit(1);
	}
}

/* ---- typical events --------------------------------------------------------- */

/*
 * Event i of a working day, in the shapes the services write (docs/queue.md,
 * docs/orders.md "Outbox events", docs/requests.md): per ten events, five
 * ticket moves, a window change, two order actions, a filed request and a
 * rating. Returns the type; json gets the payload.
 */
static const char *event_make(long i, char *json, size_t cap)
{
	static const char *const tk[] = { "queue.ticket_issued", "queue.ticket_called",
					  "queue.ticket_started", "queue.ticket_finished",
					  "queue.ticket_no_show" };
	int64_t at = T0_MS + i * 7000;
	long t = i / 10;
	int k = (int)(i % 10);

	if (k < 5) {
		snprintf(json, cap,
			 "{\"day\":\"2026-11-22\",\"number\":\"A%03ld\",\"service_id\":%ld,"
			 "\"priority\":false,\"printed\":true,\"window_no\":%ld,\"recall_count\":0,"
			 "\"issued_ms\":%" PRId64 ",\"called_ms\":%" PRId64
			 ",\"started_ms\":%" PRId64 ",\"finished_ms\":%" PRId64
			 ",\"wait_s\":%ld,\"service_s\":%ld}",
			 t % 1000, 1 + t % 3, 1 + t % 4, at - 600000, at - 300000, at - 290000, at,
			 300 + t % 60, 290 + t % 90);
		return tk[k];
	}
	if (k == 5) {
		snprintf(json, cap,
			 "{\"window_no\":%ld,\"state\":\"open\",\"from_state\":\"paused\","
			 "\"service_ids\":[1,2],\"user_id\":\"u-%04ld\",\"at_ms\":%" PRId64 "}",
			 1 + t % 4, t % 50, at);
		return "queue.window_changed";
	}
	if (k == 6) {
		snprintf(json, cap,
			 "{\"number\":\"GD2026%06ld\",\"state\":\"received\",\"from_state\":"
			 "\"pending\",\"at_ms\":%" PRId64
			 ",\"by\":\"u-%04ld\",\"received_ms\":%" PRId64 ",\"due_ms\":%" PRId64 "}",
			 t, at, t % 50, at, (int64_t)(at + 5 * 86400000LL));
		return "order.received";
	}
	if (k == 7) {
		snprintf(json, cap,
			 "{\"number\":\"GD2026%06ld\",\"state\":\"replied\",\"from_state\":"
			 "\"drafted\",\"at_ms\":%" PRId64 ",\"by\":\"u-0001\",\"reply\":\"经核实，"
			 "您反映的小区门口路灯不亮问题属实，我局已于当日安排维修人员更换灯具，"
			 "目前路灯已恢复正常照明。感谢您对城市管理工作的关心和支持。\","
			 "\"drafted_by\":\"u-%04ld\",\"signed_by\":\"u-0001\",\"replied_ms\":"
			 "%" PRId64 ",\"due_ms\":%" PRId64 ",\"on_time\":true}",
			 t, at, t % 50, at, (int64_t)(at + 86400000LL));
		return "order.replied";
	}
	if (k == 8) {
		snprintf(json, cap,
			 "{\"number\":\"WR20261122-%04ld\",\"channel\":\"kiosk\",\"category\":"
			 "\"complaint\",\"field\":\"public_service\",\"state\":\"open\","
			 "\"owner_office\":\"某县12345转办中心\",\"owner_user\":\"kiosk\","
			 "\"filed_ms\":%" PRId64 ",\"content\":\"小区东门外的人行道砖块松动，"
			 "下雨天积水严重，老人和孩子出行很不方便，希望尽快修补。\","
			 "\"location\":\"城关镇建设路12号\",\"hide_identity\":false,"
			 "\"contact_id\":%ld,\"at_ms\":%" PRId64 "}",
			 t % 10000, at, t + 1, at);
		return "request.filed";
	}
	snprintf(json, cap,
		 "{\"target\":\"ticket\",\"number\":\"A%03ld\",\"day\":\"2026-11-22\","
		 "\"window_no\":%ld,\"service_id\":%ld,\"grade\":5,\"grade_zh\":\"非常满意\","
		 "\"comment\":\"\",\"office\":\"某县12345转办中心\",\"rated_ms\":%" PRId64 "}",
		 t % 1000, 1 + t % 4, 1 + t % 3, at);
	return "rating.submitted";
}

/* Append n events (from number first) in transactions of 100; their
 * payload bytes are added to *payload. */
static void fill(const char *dir, long first, long n, uint64_t *payload)
{
	char json[2048];
	sqlite3 *db;

	if (store_open(dir, &db) < 0) {
		fprintf(stderr, "bench_sync: cannot open %s\n", dir);
		exit(1);
	}
	for (long i = first; i < first + n; i += 100) {
		store_begin(db);
		for (long j = i; j < first + n && j < i + 100; j++) {
			const char *type = event_make(j, json, sizeof(json));

			if (outbox_append(db, type, json, NULL) < 0) {
				fprintf(stderr, "bench_sync: outbox_append %s failed\n", type);
				exit(1);
			}
			if (payload != NULL) {
				*payload += strlen(json);
			}
		}
		if (store_commit(db) < 0) {
			exit(1);
		}
	}
	store_close(db);
}

static struct sync *worker_new(const char *dir, int batch_events, int backoff_min_ms)
{
	struct sync_params p = {
		.data_dir = dir,
		.city_ip = SIM_WIRE_GATEWAY_IP,
		.city_port = city.port,
		.city_host = CITY_HOST,
		.batch_events = batch_events,
		.backoff_min_ms = backoff_min_ms,
		.backoff_max_ms = backoff_min_ms,
		.idle_poll_ms = 600000,
		.request_timeout_ms = 5000,
	};
	struct sync *s;

	if (sync_create(&p, &s) != 0) {
		fprintf(stderr, "bench_sync: sync_create failed\n");
		exit(1);
	}
	return s;
}

/* Wait until the city acknowledged seq upto (false after timeout_s). */
static bool wait_acked(struct sync *s, int64_t upto, int poll_us, int timeout_s)
{
	int64_t t0 = now_us();
	struct sync_status st;

	for (;;) {
		sync_status(s, &st);
		if (st.acked_upto >= upto) {
			return true;
		}
		if (now_us() - t0 > (int64_t)timeout_s * 1000000) {
			fprintf(stderr, "bench_sync: acked %" PRId64 " of %" PRId64 " (%s: %s)\n",
				st.acked_upto, upto, sync_state_name(st.state), st.last_error_en);
			return false;
		}
		usleep((useconds_t)poll_us);
	}
}

/* ---- 0. the link's capacity: a bulk TCP transfer ---------------------------- */

struct sink {
	int lfd;
	uint64_t got;
	int64_t end_us;
};

static void *sink_run(void *arg)
{
	struct sink *k = arg;
	static char buf[65536];
	int fd = accept(k->lfd, NULL, NULL);
	ssize_t n;

	if (fd < 0) {
		return NULL;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		k->got += (uint64_t)n;
	}
	k->end_us = now_us();
	close(fd);
	return NULL;
}

/* TCP payload bytes/s and wire bytes/s of one bulk transfer up the link. */
static int bulk(double *goodput, double *wire_rate)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	static char chunk[16384];
	struct sink k = { 0 };
	pthread_t th;
	uint64_t w0;
	int64_t t0;
	size_t sent = 0;
	int sock;

	k.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (k.lfd < 0 || bind(k.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(k.lfd, 1) != 0 || getsockname(k.lfd, (struct sockaddr *)&a, &alen) != 0) {
		return -1;
	}
	pthread_create(&th, NULL, sink_run, &k);
	memset(chunk, 'x', sizeof(chunk));
	w0 = wire_bytes();
	t0 = now_us();
	sock = net_connect(SIM_WIRE_GATEWAY_IP, ntohs(a.sin_port), 10000);
	if (sock < 0) {
		fprintf(stderr, "bench_sync: bulk connect: %s\n", strerror(-sock));
		close(k.lfd);
		return -1;
	}
	while (sent < BULK_BYTES) {
		int n = net_send(sock, chunk, sizeof(chunk), 30000);

		if (n <= 0) {
			break;
		}
		sent += (size_t)n;
	}
	net_close(sock);
	pthread_join(th, NULL);
	close(k.lfd);
	if (k.got != sent || sent < BULK_BYTES) {
		fprintf(stderr, "bench_sync: bulk sent %zu, received %" PRIu64 "\n", sent, k.got);
		return -1;
	}
	*goodput = (double)k.got / ((double)(k.end_us - t0) / 1e6);
	*wire_rate = (double)(wire_bytes() - w0) / ((double)(k.end_us - t0) / 1e6);
	return 0;
}

/* ---- 1. backlog drain ------------------------------------------------------ */

struct drain {
	double s;
	double eps;
	double wire_per_event;
	double up_per_event;
	double frames_per_event;
	uint64_t batches;
	long hwm_delta_kb;
};

static int drain(const char *name, long n, int batch_events, struct drain *d)
{
	char dir[1200];
	struct sync_status st;
	struct sim_wire_stats f0, f1;
	uint64_t up0, w0, payload = 0;
	struct sync *s;
	long hwm0;
	int64_t t0;
	bool reset;
	int ok;

	make_data_dir(dir, sizeof(dir), name);
	fill(dir, 0, n, &payload);
	s = worker_new(dir, batch_events, 1000);
	reset = hwm_reset();
	hwm0 = vm_hwm_kb();
	up0 = atomic_load(&cl.up);
	w0 = wire_bytes();
	sim_wire_get_stats(&cl.inner, &f0);
	t0 = now_us();
	if (sync_start(s) != 0) {
		fprintf(stderr, "bench_sync: sync_start failed\n");
		return -1;
	}
	ok = wait_acked(s, n, 20000, 3600);
	d->s = (double)(now_us() - t0) / 1e6;
	d->hwm_delta_kb = reset ? vm_hwm_kb() - hwm0 : -1;
	d->wire_per_event = (double)(wire_bytes() - w0) / (double)n;
	d->up_per_event = (double)(atomic_load(&cl.up) - up0) / (double)n;
	sim_wire_get_stats(&cl.inner, &f1);
	d->frames_per_event =
		(double)(f1.to_host + f1.to_appliance - f0.to_host - f0.to_appliance) / (double)n;
	d->eps = (double)n / d->s;
	sync_status(s, &st);
	d->batches = st.batches;
	sync_destroy(s);
	printf("  %-22s %ld events (%.0f payload bytes each) in %.2f s: %.0f events/s, "
	       "%" PRIu64 " batches, %.0f wire bytes/event (%.0f up) in %.2f frames\n",
	       name, n, (double)payload / (double)n, d->s, d->eps, d->batches, d->wire_per_event,
	       d->up_per_event, d->frames_per_event);
	return ok ? 0 : -1;
}

/* ---- 2. link-up to first ack ------------------------------------------------ */

static int link_up_to_ack(int reps)
{
	char dir[1200];
	struct sync_status st;
	int64_t *t = calloc((size_t)reps, sizeof(*t));
	long next = 0;
	struct sync *s;

	make_data_dir(dir, sizeof(dir), "linkup");
	/* A long backoff: the worker is certainly waiting when the link returns. */
	s = worker_new(dir, 0, 60000);
	fill(dir, next, 10, NULL);
	next += 10;
	if (t == NULL || sync_start(s) != 0 || !wait_acked(s, next, 2000, 120)) {
		return -1;
	}
	for (int r = 0; r < reps; r++) {
		int64_t t0;

		sim_wire_set_cut(&cl.inner, true);
		fill(dir, next, 10, NULL);
		next += 10;
		sync_kick(s); /* a round now fails on the cut wire */
		for (int i = 0; i < 3000; i++) {
			sync_status(s, &st);
			if (st.state == SYNC_BACKOFF) {
				break;
			}
			usleep(5000);
		}
		if (st.state != SYNC_BACKOFF) {
			fprintf(stderr, "bench_sync: the worker did not back off (%s)\n",
				sync_state_name(st.state));
			return -1;
		}
		sim_wire_set_cut(&cl.inner, false);
		t0 = now_us();
		sync_kick(s);
		if (!wait_acked(s, next, 500, 120)) {
			return -1;
		}
		t[r] = now_us() - t0;
	}
	sync_destroy(s);
	qsort(t, (size_t)reps, sizeof(*t), cmp_i64);
	printf("  link-up + sync_kick to the first ack (worker in backoff, 10 events "
	       "waiting), %d times: p50 %.1f ms, min %.1f ms, max %.1f ms\n",
	       reps, (double)t[reps / 2] / 1000, (double)t[0] / 1000, (double)t[reps - 1] / 1000);
	free(t);
	return 0;
}

/* ---- 3. TLS handshakes ------------------------------------------------------- */

static int get_time(struct httpc *c)
{
	struct httpc_request req = { .method = "GET", .path = "/api/v1/time" };
	struct httpc_response resp;
	int ret = httpc_request(c, &req, &resp);

	if (ret != 0 || resp.status != 200) {
		fprintf(stderr, "bench_sync: GET /api/v1/time: %d, %s (%s)\n", ret,
			httpc_reason_en(httpc_last_reason(c)), httpc_last_detail(c));
		return -1;
	}
	return 0;
}

static int handshakes(int reps)
{
	char dir[1200];
	struct identity_tls id;
	int64_t *full = calloc((size_t)reps, sizeof(int64_t));
	int64_t *res = calloc((size_t)reps, sizeof(int64_t));
	int64_t *rtt = calloc((size_t)reps, sizeof(int64_t));
	struct httpc_stats hs;
	struct httpc c;
	struct httpc_config cfg = {
		.ip = SIM_WIRE_GATEWAY_IP,
		.port = city.port,
		.host = CITY_HOST,
		.transport = &httpc_transport_net,
		.io_timeout_ms = 30000,
		.request_timeout_ms = 60000,
	};
	int ret = -1;

	make_data_dir(dir, sizeof(dir), "tls");
	if (full == NULL || res == NULL || rtt == NULL || identity_tls_load(dir, &id) != 0) {
		return -1;
	}
	cfg.ca = &id.ca;
	cfg.cert = &id.cert;
	cfg.key = &id.key;
	if (httpc_init(&c, &cfg) != 0) {
		goto out_id;
	}
	for (int i = 0; i < reps; i++) {
		httpc_forget_session(&c);
		if (get_time(&c) != 0) {
			goto out_http;
		}
		httpc_get_stats(&c, &hs);
		full[i] = hs.last_handshake_us;
		httpc_close(&c);
		if (get_time(&c) != 0) {
			goto out_http;
		}
		httpc_get_stats(&c, &hs);
		if (!hs.last_resumed) {
			fprintf(stderr, "bench_sync: the session was not resumed\n");
			goto out_http;
		}
		res[i] = hs.last_handshake_us;
		httpc_close(&c);
	}
	qsort(full, (size_t)reps, sizeof(int64_t), cmp_i64);
	qsort(res, (size_t)reps, sizeof(int64_t), cmp_i64);
	/* The round trip of a request on a kept-alive connection, for scale. */
	for (int i = 0; i <= reps; i++) {
		int64_t t0 = now_us();

		if (get_time(&c) != 0) {
			goto out_http;
		}
		if (i > 0) {
			rtt[i - 1] = now_us() - t0;
		}
	}
	qsort(rtt, (size_t)reps, sizeof(int64_t), cmp_i64);
	printf("  GET /api/v1/time on a kept-alive connection, %d times: p50 %.1f ms (max "
	       "%.1f)\n",
	       reps, (double)rtt[reps / 2] / 1000, (double)rtt[reps - 1] / 1000);
	printf("  TLS handshake over lwIP/slirp to citysim, %d each: full p50 %.1f ms "
	       "(max %.1f), resumed p50 %.1f ms (max %.1f)\n",
	       reps, (double)full[reps / 2] / 1000, (double)full[reps - 1] / 1000,
	       (double)res[reps / 2] / 1000, (double)res[reps - 1] / 1000);
	ret = 0;
out_http:
	httpc_free(&c);
out_id:
	identity_tls_free(&id);
	free(full);
	free(res);
	free(rtt);
	return ret;
}

/* ---- main ------------------------------------------------------------------- */

static long env_long(const char *name, long dflt, long lo, long hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0') {
		return dflt;
	}
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "bench_sync: %s must be %ld..%ld\n", name, lo, hi);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct hal_uplink_addr addr = {
		.ip = SIM_WIRE_APPLIANCE_IP,
		.netmask = SIM_WIRE_NETMASK,
		.gateway = SIM_WIRE_GATEWAY_IP,
	};
	long n = env_long("HE_BENCH_EVENTS", 10000, 10, 1000000);
	int reps = (int)env_long("HE_BENCH_REPS", 10, 1, 1000);
	struct drain batch = { .hwm_delta_kb = -1 };
	struct drain single = { .hwm_delta_kb = -1 };
	double goodput = 0, wire_rate = 0;
	int fails = 0;

	if (test_city_env_init(&env, argc, argv, "bench_sync") != 0) {
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LVL_ERROR);
	if (rng_init() < 0) {
		return 1;
	}
	snprintf(city_data, sizeof(city_data), "%s/city", env.tmp);
	if (test_city_start(&city, &env, "city", "--data", city_data, (char *)NULL) != 0) {
		fprintf(stderr, "bench_sync: citysim did not start\n");
		return 1;
	}
	if (sim_wire_create(&cl.inner) != 0 || net_up(&counted, &addr, 0x5eed5) != 0) {
		return 1;
	}
	for (int i = 0; i < 200 && !net_is_up(); i++) {
		usleep(10000);
	}
	printf("bench_sync: sync worker -> lwIP -> slirp wire -> citysim; %ld events, %d "
	       "repetitions\n",
	       n, reps);

	printf("link capacity (bulk TCP over lwIP/slirp, %d MiB up):\n", BULK_BYTES >> 20);
	if (bulk(&goodput, &wire_rate) == 0) {
		printf("  %.1f MB/s TCP payload, %.1f MB/s of frames on the wire\n", goodput / 1e6,
		       wire_rate / 1e6);
	} else {
		fails++;
	}

	printf("1. backlog drain (default batches of up to %d, then one event per request):\n",
	       SYNC_BATCH_EVENTS_MAX);
	if (drain("batched", n, 0, &batch) != 0 || drain("batch_events=1", n, 1, &single) != 0) {
		fails++;
	} else {
		printf("  batched vs one per request: %.1fx the events/s, %.2fx the wire bytes "
		       "per event\n",
		       batch.eps / single.eps, batch.wire_per_event / single.wire_per_event);
		if (wire_rate > 0) {
			printf("  link use (wire bytes/s during the drain / bulk wire bytes/s): "
			       "batched %.3f, one per request %.4f; the link alone would carry "
			       "the batched drain's bytes in %.2f s (%.0f events/s)\n",
			       batch.wire_per_event * batch.eps / wire_rate,
			       single.wire_per_event * single.eps / wire_rate,
			       batch.wire_per_event * (double)n / wire_rate,
			       wire_rate / batch.wire_per_event);
		}
	}

	printf("2. time from link-up to the first event acknowledged:\n");
	if (link_up_to_ack(reps) != 0) {
		fails++;
	}

	printf("3. memory and TLS:\n");
	if (batch.hwm_delta_kb >= 0) {
		printf("  peak RSS delta of the worker draining %ld events (VmHWM): batched "
		       "%ld KiB, one per request %ld KiB\n",
		       n, batch.hwm_delta_kb, single.hwm_delta_kb);
	} else {
		printf("  peak RSS delta: VmHWM cannot be reset here\n");
	}
	if (handshakes(reps) != 0) {
		fails++;
	}

	net_down();
	sim_wire_destroy(&cl.inner);
	if (test_city_stop(&city) != 0) {
		fails++;
	}
	if (fails == 0) {
		test_rmtree(env.tmp);
	}
	printf("bench_sync: %s\n", fails == 0 ? "done" : "some figures are missing (see above)");
	return fails == 0 ? 0 : 1;
}
