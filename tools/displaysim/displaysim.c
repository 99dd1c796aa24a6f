/*
 * displaysim: simulated window display boards for scripts/run-sim and the
 * tests. Each board is a libmodbus server holding the register map of
 * docs/display-boards.md; every write it receives is printed as one line,
 * "window 3: A012 calling (brightness 80, call 2)", and flushed at once so
 * a test or a person can follow along.
 *
 * Modbus TCP (default): board n listens on 127.0.0.1 port BASE + n, for
 * each window of --windows. Modbus RTU (--rtu): one pseudo-terminal is the
 * bus; its path is printed ("rtu bus on /dev/pts/N") for the appliance's
 * display.rtu_device, and every unit of --windows answers on it.
 *
 * For tests a board can misbehave: --silent N never answers window N
 * (requests are read and dropped), --slow N:MS answers window N after MS
 * milliseconds. One thread, one poll loop; the sockets are libmodbus's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <modbus/modbus.h>

#define MAX_WINDOWS 99
#define MAX_CLIENTS 64
#define NREGS	    16

struct board {
	int no;
	modbus_t *ctx; /* TCP: this board's listening context */
	int listen_fd;
	modbus_mapping_t *map;
	bool silent;
	int slow_ms;
};

static struct board boards[MAX_WINDOWS + 1];
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static const char *state_name(unsigned s)
{
	static const char *const names[] = { "idle", "calling", "serving", "paused", "closed" };

	return s < 5 ? names[s] : "unknown-state";
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping) {
	}
}

static void print_board(const struct board *b)
{
	const uint16_t *r = b->map->tab_registers;
	char number[8] = "";

	if (r[1] >= 'A' && r[1] <= 'Z') {
		snprintf(number, sizeof(number), "%c%03u", (char)r[1], (unsigned)r[2] % 1000);
	} else {
		snprintf(number, sizeof(number), "----");
	}
	printf("window %d: %s %s (brightness %u, call %u)\n", b->no, number, state_name(r[3]),
	       (unsigned)r[4], (unsigned)r[5]);
	fflush(stdout);
}

/* Answer one request already read into q (len bytes) for board b, on ctx. */
static void answer(modbus_t *ctx, struct board *b, const uint8_t *q, int len)
{
	int hl = modbus_get_header_length(ctx);
	uint8_t fc = q[hl];

	if (b->silent) {
		return;
	}
	if (b->slow_ms > 0) {
		sleep_ms(b->slow_ms);
	}
	if (modbus_reply(ctx, q, len, b->map) < 0) {
		fprintf(stderr, "displaysim: window %d: reply failed: %s\n", b->no,
			modbus_strerror(errno));
		return;
	}
	if (fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS || fc == MODBUS_FC_WRITE_SINGLE_REGISTER) {
		print_board(b);
	}
}

static int parse_windows(const char *s, int *n)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || v < 1 || v > MAX_WINDOWS) {
		return -1;
	}
	*n = (int)v;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: displaysim [--port-base N] [--windows N] [--rtu] [--silent W]... "
		"[--slow W:MS]...\n"
		"Simulated window display boards (docs/display-boards.md).\n"
		"  --port-base N  board W listens on 127.0.0.1 port N+W (default 15020)\n"
		"  --windows N    boards 1..N (default 4)\n"
		"  --rtu          one pseudo-terminal RTU bus instead of TCP; prints its path\n"
		"  --silent W     board W never answers\n"
		"  --slow W:MS    board W answers after MS milliseconds\n");
}

static int run_tcp(int port_base, int nwin)
{
	struct pollfd pfd[MAX_WINDOWS + MAX_CLIENTS];
	int client_fd[MAX_CLIENTS], client_win[MAX_CLIENTS];
	int nclients = 0;
	uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];

	for (int w = 1; w <= nwin; w++) {
		struct board *b = &boards[w];

		b->ctx = modbus_new_tcp("127.0.0.1", port_base + w);
		if (b->ctx == NULL) {
			fprintf(stderr, "displaysim: %s\n", modbus_strerror(errno));
			return 1;
		}
		b->listen_fd = modbus_tcp_listen(b->ctx, 4);
		if (b->listen_fd < 0) {
			fprintf(stderr, "displaysim: cannot listen on port %d: %s\n", port_base + w,
				modbus_strerror(errno));
			return 1;
		}
	}
	printf("displaysim: %d boards on 127.0.0.1 ports %d..%d\n", nwin, port_base + 1,
	       port_base + nwin);
	fflush(stdout);

	while (!stopping) {
		int n = 0;

		for (int w = 1; w <= nwin; w++) {
			pfd[n++] = (struct pollfd){ .fd = boards[w].listen_fd, .events = POLLIN };
		}
		for (int i = 0; i < nclients; i++) {
			pfd[n++] = (struct pollfd){ .fd = client_fd[i], .events = POLLIN };
		}
		if (poll(pfd, (nfds_t)n, 200) <= 0) {
			continue;
		}
		for (int w = 1; w <= nwin; w++) {
			if (pfd[w - 1].revents & POLLIN) {
				int fd = accept4(boards[w].listen_fd, NULL, NULL, SOCK_CLOEXEC);

				if (fd < 0) {
					continue;
				}
				if (nclients == MAX_CLIENTS) {
					close(fd);
					continue;
				}
				client_fd[nclients] = fd;
				client_win[nclients++] = w;
			}
		}
		for (int i = nwin; i < n; i++) {
			int ci = i - nwin, len;
			struct board *b;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				continue;
			}
			b = &boards[client_win[ci]];
			modbus_set_socket(b->ctx, client_fd[ci]);
			len = modbus_receive(b->ctx, q);
			if (len > 0) {
				answer(b->ctx, b, q, len);
			} else if (len < 0) {
				close(client_fd[ci]);
				client_fd[ci] = -1;
			}
		}
		/* drop closed clients */
		for (int i = 0; i < nclients;) {
			if (client_fd[i] < 0) {
				client_fd[i] = client_fd[nclients - 1];
				client_win[i] = client_win[nclients - 1];
				nclients--;
			} else {
				i++;
			}
		}
	}
	for (int i = 0; i < nclients; i++) {
		close(client_fd[i]);
	}
	return 0;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xffff;

	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++) {
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa001) : (uint16_t)(crc >> 1);
		}
	}
	return crc;
}

/* Bytes until 20 ms of silence; 0 when nothing came in 200 ms. */
static int read_frame(int fd, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	int wait = 200;

	while (n < cap && !stopping) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, wait) <= 0) {
			break;
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0) {
			break;
		}
		n += (size_t)r;
		wait = 20;
	}
	return (int)n;
}

static int run_rtu(int nwin)
{
	uint8_t q[MODBUS_RTU_MAX_ADU_LENGTH];
	modbus_t *ctx;
	int master, hold;
	const char *slave;
	struct termios t;

	/* We keep the master; the appliance opens the slave like a real port. */
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
	    (slave = ptsname(master)) == NULL) {
		perror("displaysim: pseudo-terminal");
		return 1;
	}
	hold = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (hold >= 0 && tcgetattr(hold, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(hold, TCSANOW, &t);
	}
	/* Frames are read here (every unit answers); libmodbus builds the replies. */
	ctx = modbus_new_rtu(slave, 9600, 'N', 8, 1);
	if (ctx == NULL) {
		fprintf(stderr, "displaysim: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_set_socket(ctx, master);
	printf("displaysim: rtu bus on %s, units 1..%d\n", slave, nwin);
	fflush(stdout);
	while (!stopping) {
		int len, unit;

		/* A frame ends with a silence (3.5 characters; a pty has no timing). */
		len = read_frame(master, q, sizeof(q));
		if (len < 4 ||
		    crc16(q, (size_t)len - 2) != (uint16_t)(q[len - 2] | q[len - 1] << 8)) {
			continue; /* nothing, or noise: a real board stays quiet too */
		}
		unit = q[0];
		if (unit < 1 || unit > nwin) {
			continue; /* another device on the bus */
		}
		modbus_set_slave(ctx, unit);
		answer(ctx, &boards[unit], q, len);
	}
	modbus_free(ctx);
	if (hold >= 0) {
		close(hold);
	}
	close(master);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port-base", required_argument, NULL, 'p' },
		{ "windows", required_argument, NULL, 'w' },
		{ "rtu", no_argument, NULL, 'r' },
		{ "silent", required_argument, NULL, 's' },
		{ "slow", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int port_base = 15020, nwin = 4, c, w, rc;
	bool rtu = false;
	struct sigaction sa = { .sa_handler = on_signal };

	for (int i = 0; i <= MAX_WINDOWS; i++) {
		boards[i].no = i;
		boards[i].listen_fd = -1;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port_base = atoi(optarg);
			if (port_base < 1 || port_base > 65535 - MAX_WINDOWS) {
				fprintf(stderr, "displaysim: --port-base must be 1..%d\n",
					65535 - MAX_WINDOWS);
				return 2;
			}
			break;
		case 'w':
			if (parse_windows(optarg, &nwin) != 0) {
				fprintf(stderr, "displaysim: --windows must be 1..%d\n",
					MAX_WINDOWS);
				return 2;
			}
			break;
		case 'r':
			rtu = true;
			break;
		case 's':
			if (parse_windows(optarg, &w) != 0) {
				fprintf(stderr, "displaysim: --silent takes a window number\n");
				return 2;
			}
			boards[w].silent = true;
			break;
		case 'l': {
			char *colon = strchr(optarg, ':');

			if (colon == NULL) {
				fprintf(stderr, "displaysim: --slow takes WINDOW:MS\n");
				return 2;
			}
			*colon = '\0';
			if (parse_windows(optarg, &w) != 0 || atoi(colon + 1) < 1) {
				fprintf(stderr, "displaysim: --slow takes WINDOW:MS\n");
				return 2;
			}
			boards[w].slow_ms = atoi(colon + 1);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (int i = 1; i <= nwin; i++) {
		boards[i].map = modbus_mapping_new(0, 0, NREGS, 0);
		if (boards[i].map == NULL) {
			fprintf(stderr, "displaysim: out of memory\n");
			return 1;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = rtu ? run_rtu(nwin) : run_tcp(port_base, nwin);
	for (int i = 1; i <= nwin; i++) {
		if (boards[i].ctx != NULL) {
			if (boards[i].listen_fd >= 0) {
				close(boards[i].listen_fd);
			}
			modbus_free(boards[i].ctx);
		}
		modbus_mapping_free(boards[i].map);
	}
	return rc;
}
