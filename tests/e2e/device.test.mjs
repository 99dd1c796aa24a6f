/*
 * Browser test of the technician's Device page (device.js) against the real
 * daemon: a technician and a staff user are made with `hotline-edge admin
 * add-user`; the config points the window display boards at Modbus TCP
 * ports where nothing listens, so every board shows as failing with the
 * error text, and a fresh data directory has a device key but no
 * certificate ("no_cert"). The staff user does not get the tab.
 * Screenshot: <build>/e2e/device.png. No request may fail and nothing may
 * reach the console (a CSP violation would).
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
const TECH = { id: "tech01", name: "赵技术", pin: "314159" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };

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

/* Nothing listens on base+1 .. base+9 (the boards of windows 1-9). */
async function freeBase() {
	for (let tries = 0; tries < 20; tries++) {
		const base = (await freePort()) - 1;
		if (base + 99 > 65535) {
			continue;
		}
		let ok = true;
		for (let n = 1; n <= 9 && ok; n++) {
			ok = await new Promise((resolve) => {
				const s = net.createServer();
				s.once("error", () => resolve(false));
				s.listen(base + n, "127.0.0.1", () => s.close(() => resolve(true)));
			});
		}
		if (ok) {
			return base;
		}
	}
	throw new Error("no free port range for the display boards");
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
async function startDaemon(dir, data, port, base) {
	const cfg = path.join(dir, "hotline-edge.ini");
	fs.writeFileSync(cfg, `[http]\nport = ${port}\n\n[display]\nmode = tcp\n` +
		`tcp_address = 127.0.0.1\ntcp_port_base = ${base}\n`);
	const log = fs.createWriteStream(path.join(OUT, "hotline-edge-device.log"));
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

test("technician's device page: boards and certificate", { timeout: 120000 }, async (t) => {
	if (!fs.existsSync(CHROMIUM)) {
		t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
		return;
	}
	assert.ok(fs.existsSync(BIN), `${BIN} is missing: build the tree first`);
	fs.mkdirSync(OUT, { recursive: true });
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "he-e2e-device-"));
	const data = path.join(dir, "data");
	fs.mkdirSync(data);

	for (const [who, role] of [[TECH, "technician"], [CLERK, "staff"]]) {
		const made = await admin(data, ["add-user", who.id, role, "--name", who.name], who.pin);
		assert.equal(made.code, 0, `admin add-user ${who.id} failed:\n${made.output}`);
	}

	const d = await startDaemon(dir, data, await freePort(), await freeBase());
	let ctx = null;
	try {
		ctx = await chromium.launchPersistentContext(path.join(dir, "profile"), {
			executablePath: CHROMIUM,
			headless: true,
			args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking",
				"--disable-component-update", "--disable-sync"],
			viewport: { width: 1280, height: 800 },
			locale: "zh-CN",
		});
		const page = ctx.pages()[0] || await ctx.newPage();
		const problems = [];
		page.on("console", (m) => {
			if (m.type() === "error") {
				problems.push(`console: ${m.text()}`);
			}
		});
		page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
		page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`));
		page.on("response", (r) => {
			if (r.status() >= 400) {
				problems.push(`${r.status()}: ${r.url()}`);
			}
		});

		await page.goto(d.url);
		await page.waitForSelector("#staff-entry");

		/* A staff user has no Device tab. */
		await login(page, CLERK);
		assert.ok(await page.isHidden(".sh-tab[data-tab=device]"));
		await logout(page);

		/* The technician has it, and it is their only tab. */
		await login(page, TECH);
		assert.equal(await page.textContent("#sh-role"), "技术人员");
		assert.ok(await page.isVisible(".sh-tab[data-tab=device]"));
		assert.equal(await page.textContent(".sh-tab[data-tab=device]"), "设备状态");
		assert.ok(await page.isHidden(".sh-tab[data-tab=users]"));

		/* What the API says about the boards... */
		const boards = await (await page.request.get(d.url + "api/v1/display/boards")).json();
		assert.equal(boards.mode, "tcp");
		const nos = boards.boards.map((b) => b.window_no);
		assert.ok(nos.length > 0, "the default queue config has windows, so boards");

		/* ... is what the page shows: every board failing, with the error text. */
		await page.click(".sh-tab[data-tab=device]");
		await page.waitForSelector(shown("#sh-device"));
		await page.waitForFunction((n) => {
			const rows = document.querySelectorAll("#dv-board-rows tr[data-window]");
			return rows.length === n &&
				[...rows].every((r) => r.dataset.state === "failing");
		}, nos.length, { timeout: 15000 });
		const rows = await page.$$eval("#dv-board-rows tr[data-window]", (trs) => trs.map((tr) => ({
			no: Number(tr.dataset.window),
			cells: [...tr.children].map((td) => td.textContent),
		})));
		assert.deepEqual(rows.map((r) => r.no), nos);
		for (const r of rows) {
			assert.match(r.cells[0], new RegExp(`^${r.no} 号窗口`));
			assert.equal(r.cells[1], "故障");
			assert.match(r.cells[2], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, "failing since");
			assert.ok(r.cells[3].length > 1 && r.cells[3] !== "—", `no error text: ${r.cells}`);
			assert.equal(r.cells[4], "从未");
		}
		const errs = boards.boards.map((b) => b.last_error).filter(Boolean);
		assert.ok(errs.length > 0 && rows.some((r) => errs.includes(r.cells[3])),
			"the API's last_error is shown");

		/* The device and its certificate: a key, no certificate yet. */
		assert.equal(await page.getAttribute("#dv-cert-state", "data-state"), "no_cert");
		assert.equal(await page.textContent("#dv-cert-state"), "尚未安装设备证书");
		assert.equal(await page.getAttribute("#dv-cert", "data-level"), "warn");
		assert.equal(await page.textContent("#dv-db"), "正常");
		const health = await (await page.request.get(d.url + "api/v1/health")).json();
		assert.match(await page.textContent("#dv-device"), new RegExp(health.firmware.replace(/[.+]/g, "\\$&")));
		await page.screenshot({ path: path.join(OUT, "device.png"), fullPage: true });

		/* English through the shell's toggle. */
		await page.click("#lang");
		assert.equal(await page.textContent("#dv-cert-state"), "no device certificate installed yet");
		assert.equal(await page.textContent("#dv-board-rows tr[data-window] td:nth-child(2)"), "failing");

		/* It refreshes every 5 s while open. */
		const again = await page.waitForResponse(
			(r) => r.url().endsWith("/api/v1/display/boards"), { timeout: 8000 });
		assert.equal(again.status(), 200);
		await page.click("#lang");
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
