/*
 * Browser test of the queue screens against the real daemon (sim board):
 * a supervisor (made with `hotline-edge admin add-user`) opens the queue at
 * every hour of every day on the settings page, a citizen takes a ticket at
 * the touchscreen (the sim printer writes the job to DATA_DIR/spool/), a
 * staff member calls it at window 1, starts and finishes it, the hall
 * display /display shows the call, and the supervisor's figures show the
 * finished ticket as bar charts.
 * Screenshots go to <build>/e2e/queue-*.png. No request may fail and
 * nothing may reach the console (a CSP violation would).
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const BUILD = path.resolve(process.env.HE_BUILD_DIR || "../../build/sim");
const BIN = path.join(BUILD, "firmware", "main", "hotline-edge");
const OUT = path.join(BUILD, "e2e");
const CHROMIUM = process.env.HE_CHROMIUM || "/usr/bin/chromium";
const BOSS = { id: "boss", name: "王主管", pin: "135790" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };
const WINDOW = 1;

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

/* `hotline-edge admin ARGS`, with the PIN typed twice on stdin. */
function admin(data, args, pin) {
	return new Promise((resolve, reject) => {
		const proc = spawn(BIN, ["admin", "--data-dir", data, ...args],
			{ stdio: ["pipe", "pipe", "pipe"] });
		let output = "";
		proc.stdout.on("data", (b) => (output += b));
		proc.stderr.on("data", (b) => (output += b));
		proc.on("error", reject);
		proc.on("exit", (code) => resolve({ code, output }));
		proc.stdin.end(`${pin}\n${pin}\n`);
	});
}

/* Start the daemon; resolves once /api/v1/health answers. */
async function startDaemon(dir, data, port) {
	const cfg = path.join(dir, "hotline-edge.ini");
	fs.writeFileSync(cfg, `[http]\nport = ${port}\n\n[queue]\nrecall_max = 3\n`);
	const log = fs.createWriteStream(path.join(OUT, "hotline-edge-queue.log"));
	const proc = spawn(BIN, ["--board", "sim", "--data-dir", data, "--config", cfg], {
		stdio: ["ignore", "pipe", "pipe"],
	});
	let output = "";
	for (const s of [proc.stdout, proc.stderr]) {
		s.on("data", (b) => {
			output += b;
			log.write(b);
		});
	}
	const exited = new Promise((resolve) =>
		proc.on("exit", (code, signal) => {
			log.end();
			resolve({ code, signal });
		}));
	const url = `http://127.0.0.1:${port}/`;
	const deadline = Date.now() + 30000;
	let early = null;
	exited.then((e) => (early = e));
	for (;;) {
		if (early) {
			throw new Error(`hotline-edge exited early (${JSON.stringify(early)}):\n${output}`);
		}
		try {
			const r = await fetch(url + "api/v1/health");
			if (r.ok) {
				return { proc, exited, url, output: () => output };
			}
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) {
			proc.kill("SIGKILL");
			throw new Error(`hotline-edge did not answer on ${url} within 30 s:\n${output}`);
		}
		await sleep(100);
	}
}

const shown = (sel) => `${sel}:not([hidden])`;

async function login(page, who) {
	await page.click("#staff-entry");
	await page.waitForSelector(shown("#staff-login"));
	await page.fill("#sl-user", who.id);
	await page.fill("#sl-pin", who.pin);
	await page.click("#sl-submit");
	await page.waitForSelector(shown("#staff-home"));
	assert.equal(await page.textContent("#sh-name"), who.name);
}

async function logout(page) {
	await page.click("#sh-logout");
	await page.waitForSelector(shown("#home"));
}

/* Files the sim printer has written so far. */
function spoolJobs(data) {
	const dir = path.join(data, "spool");
	return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith(".")) : [];
}

/* Click a window-screen button and wait for the call it makes. */
async function act(page, what) {
	const [resp] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === "POST" &&
			r.url().endsWith(`/api/v1/queue/windows/${WINDOW}/${what}`)),
		page.click(`#sh-queue [data-act="${what}"]`),
	]);
	assert.ok(resp.ok(), `${what}: HTTP ${resp.status()} ${await resp.text()}`);
	const csrf = resp.request().headers()["x-csrf-token"];
	assert.ok(csrf && csrf.length > 0, `${what} was sent without X-CSRF-Token`);
	return resp.json();
}

test("take a ticket, call it at a window, see it on the hall display", { timeout: 180000 },
	async (t) => {
		if (!fs.existsSync(CHROMIUM)) {
			t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
			return;
		}
		assert.ok(fs.existsSync(BIN), `${BIN} is missing: build the tree first`);
		fs.mkdirSync(OUT, { recursive: true });
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "he-e2e-queue-"));
		const data = path.join(dir, "data");
		fs.mkdirSync(data);

		for (const [who, role] of [[BOSS, "supervisor"], [CLERK, "staff"]]) {
			const made = await admin(data, ["add-user", who.id, role, "--name", who.name], who.pin);
			assert.equal(made.code, 0, `admin add-user ${who.id} failed:\n${made.output}`);
		}

		const d = await startDaemon(dir, data, await freePort());
		let ctx = null;
		try {
			ctx = await chromium.launchPersistentContext(path.join(dir, "profile"), {
				executablePath: CHROMIUM,
				headless: true,
				args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
					"--no-first-run", "--disable-background-networking",
					"--disable-component-update", "--disable-sync"],
				viewport: { width: 1280, height: 1024 },
				locale: "zh-CN",
			});
			const page = ctx.pages()[0] || await ctx.newPage();
			const problems = [];
			const watch = (p, name) => {
				p.on("console", (m) => {
					if (m.type() === "error") {
						problems.push(`${name} console: ${m.text()}`);
					}
				});
				p.on("pageerror", (e) => problems.push(`${name} page error: ${e.message}`));
				p.on("response", (r) => {
					if (r.status() >= 400) {
						problems.push(`${name} ${r.status()}: ${r.url()}`);
					}
				});
			};
			watch(page, "kiosk");
			page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`));
			await page.goto(d.url);

			/* The supervisor opens the queue at every hour of every day. */
			await login(page, BOSS);
			for (const tab of ["queue", "queue-config", "queue-stats"]) {
				assert.ok(await page.isVisible(`.sh-tab[data-tab="${tab}"]`), `tab ${tab}`);
			}
			await page.click('.sh-tab[data-tab="queue-config"]');
			await page.waitForSelector(shown("#sh-queue-config") + " .q-record");
			for (const day of ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) {
				const row = `#qc-form .q-hours tr[data-day="${day}"]`;
				await page.check(`${row} .q-day-open`);
				await page.fill(`${row} [data-time="open"]`, "00:00");
				await page.fill(`${row} [data-time="close"]`, "24:00");
			}
			const [saved] = await Promise.all([
				page.waitForResponse((r) => r.url().endsWith("/api/v1/queue/config") &&
					r.request().method() === "PUT"),
				page.click("#qc-save"),
			]);
			assert.ok(saved.ok(), `PUT config: ${saved.status()} ${await saved.text()}`);
			const hours = (await saved.json()).hours;
			for (const day of ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]) {
				assert.deepEqual(hours[day], { open: "00:00", close: "24:00" }, day);
			}
			await page.waitForSelector(shown("#qc-msg"));
			assert.equal(await page.textContent("#qc-msg"), "已保存。");
			await logout(page);

			/* A citizen takes a ticket: service, documents, printing, the number. */
			const before = spoolJobs(data);
			await page.click(".tile[data-func=ticket]");
			await page.waitForSelector(shown("#queue") + " .q-service");
			assert.ok(await page.isHidden("#home"));
			assert.match(await page.textContent(".q-service .q-btn-sub"), /等候 \d+ 人/);
			await page.click("#q-large");
			assert.equal(await page.getAttribute("#q-large", "aria-pressed"), "true");
			assert.ok(await page.$eval("#queue", (s) => s.classList.contains("q-large-text")));
			await page.click("#q-large");
			const service = await page.textContent(".q-service .q-btn-title");
			await page.click(".q-service");
			await page.waitForSelector("#q-take");
			assert.equal(await page.textContent(".q-chosen"), service);
			assert.ok(await page.isVisible(".q-docs"));
			const [issued] = await Promise.all([
				page.waitForResponse((r) => r.url().endsWith("/api/v1/queue/tickets") &&
					r.request().method() === "POST"),
				page.click("#q-take"),
			]);
			assert.equal(issued.status(), 201, await issued.text());
			const ticket = (await issued.json()).ticket;
			assert.match(ticket.number, /^[A-Z]\d{3}$/);
			await page.waitForSelector("#q-number");
			assert.equal(await page.textContent("#q-number"), ticket.number);
			assert.match(await page.textContent("#q-ahead"), /前面/);
			const jobs = spoolJobs(data).filter((f) => !before.includes(f));
			assert.equal(jobs.length, 1, `spool jobs after issuing: ${jobs.join(", ")}`);
			assert.ok(fs.statSync(path.join(data, "spool", jobs[0])).size > 0, "an empty print job");
			await page.screenshot({ path: path.join(OUT, "queue-ticket.png") });
			await page.click("#q-done");
			await page.waitForSelector(shown("#home"));
			assert.ok(await page.isHidden("#queue"));

			/* Staff open window 1, call the ticket, start and finish it. */
			await login(page, CLERK);
			assert.ok(await page.isVisible('.sh-tab[data-tab="queue"]'));
			assert.ok(await page.isHidden('.sh-tab[data-tab="queue-config"]'));
			assert.ok(await page.isHidden('.sh-tab[data-tab="users"]'));
			await page.click('.sh-tab[data-tab="queue"]');
			await page.waitForSelector(`#qw-select option[value="${WINDOW}"]`, { state: "attached" });
			await Promise.all([
				page.waitForResponse((r) => r.url().endsWith(`/api/v1/queue/windows/${WINDOW}`)),
				page.selectOption("#qw-select", String(WINDOW)),
			]);
			await page.waitForFunction(() => document.getElementById("qw-state").dataset.state !== "");
			if (await page.getAttribute("#qw-state", "data-state") !== "open") {
				await act(page, "open");
			}
			await page.waitForSelector('#qw-state[data-state="open"]');
			const called = await act(page, "call-next");
			assert.equal(called.ticket.number, ticket.number);
			await page.waitForFunction((n) =>
				document.getElementById("qw-number").textContent === n, ticket.number);
			assert.equal(await page.textContent("#qw-announce"),
				`请 ${ticket.number} 号到 ${WINDOW} 号窗口办理`);
			await act(page, "recall");
			await page.waitForFunction(() =>
				/已重呼 1(\/3)? 次/.test(document.getElementById("qw-detail").textContent));
			await act(page, "start");
			await page.waitForFunction(() =>
				/办理中/.test(document.getElementById("qw-detail").textContent));
			await page.screenshot({ path: path.join(OUT, "queue-window.png"), fullPage: true });

			/* The hall display shows the call, if that page is installed. */
			const hall = await fetch(d.url + "display");
			if (hall.ok) {
				const tv = await ctx.newPage();
				watch(tv, "display");
				await tv.goto(d.url + "display");
				await tv.waitForFunction((n) => document.body.textContent.includes(n),
					ticket.number, { timeout: 15000 });
				await tv.screenshot({ path: path.join(OUT, "queue-display.png") });
				await tv.close();
			} else {
				t.diagnostic(`/display answered ${hall.status}: hall display step left out`);
			}

			await act(page, "finish");
			await page.waitForFunction(() =>
				document.getElementById("qw-number").textContent === "—");
			assert.ok(await page.isEnabled("#qw-call"));
			await logout(page);

			/* The supervisor's figures: one finished ticket, drawn as bars. */
			await login(page, BOSS);
			await page.click('.sh-tab[data-tab="queue-stats"]');
			await page.waitForSelector("#qs-wait rect.q-median");
			await page.waitForSelector("#qs-service rect.q-median");
			await page.waitForSelector("#qs-noshow rect.q-noshow");
			assert.match(await page.textContent("#qs-wait"), /1 人/);
			assert.match(await page.textContent("#qs-service"), /1 号窗口 · 1 人\d+ 秒/);
			assert.match(await page.textContent("#qs-noshow"), /0%/);
			await page.screenshot({ path: path.join(OUT, "queue-stats.png") });
			await logout(page);

			assert.deepEqual(problems, []);
		} finally {
			if (ctx) {
				await ctx.close();
			}
			if (d.proc.exitCode === null) {
				d.proc.kill("SIGINT");
			}
			const timer = setTimeout(() => d.proc.kill("SIGKILL"), 20000);
			const e = await d.exited;
			clearTimeout(timer);
			fs.rmSync(dir, { recursive: true, force: true });
			assert.deepEqual(e, { code: 0, signal: null },
				`hotline-edge did not stop cleanly on SIGINT:\n${d.output()}`);
		}
	});
