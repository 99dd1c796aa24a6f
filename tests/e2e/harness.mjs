/*
 * What the browser tests share: the build they test, a scratch directory,
 * users made with `hotline-edge admin add-user` (and any admin command), the
 * print jobs of the sim printer, the daemon on the sim board at a free port
 * (stopped with SIGINT, which must exit 0), Debian's chromium through
 * playwright-core opened on the kiosk, a collector of console and request
 * errors, the screenshots under <build>/e2e/ and the staff login/logout of
 * the kiosk.
 *
 * HE_BUILD_DIR names the build (tests/e2e/run sets it), HE_CHROMIUM the
 * browser.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const BUILD = path.resolve(process.env.HE_BUILD_DIR || "../../build/sim");
export const BIN = path.join(BUILD, "firmware", "main", "hotline-edge");
export const OUT = path.join(BUILD, "e2e");
export const CHROMIUM = process.env.HE_CHROMIUM || "/usr/bin/chromium";

export function freePort() {
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

/*
 * Skips the test when chromium is missing (returns false); otherwise checks
 * that the build has the daemon and makes <build>/e2e/.
 */
export function ready(t) {
	if (!fs.existsSync(CHROMIUM)) {
		t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
		return false;
	}
	assert.ok(fs.existsSync(BIN), `${BIN} is missing: build the tree first`);
	fs.mkdirSync(OUT, { recursive: true });
	return true;
}

/* A fresh scratch directory with an empty data directory in it. */
export function workDir(prefix) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	const data = path.join(dir, "data");
	fs.mkdirSync(data);
	return { dir, data };
}

/*
 * `hotline-edge admin --data-dir DATA ARGS...` with INPUT (if any) on stdin;
 * asserts that it exits 0 and resolves to its output.
 */
export async function admin(data, args, input) {
	const r = await new Promise((resolve, reject) => {
		const proc = spawn(BIN, ["admin", "--data-dir", data, ...args],
			{ stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
		let output = "";
		proc.stdout.on("data", (b) => (output += b));
		proc.stderr.on("data", (b) => (output += b));
		proc.on("error", reject);
		proc.on("exit", (code) => resolve({ code, output }));
		if (input !== undefined) {
			proc.stdin.end(input);
		}
	});
	assert.equal(r.code, 0, `admin ${args.slice(0, 2).join(" ")} failed:\n${r.output}`);
	return r.output;
}

/* `hotline-edge admin add-user ID ROLE --name NAME`, the PIN typed twice on stdin. */
export async function addUser(data, who, role) {
	await admin(data, ["add-user", who.id, role, "--name", who.name], `${who.pin}\n${who.pin}\n`);
}

/* addUser for each [who, role] of USERS, in order. */
export async function addUsers(data, users) {
	for (const [who, role] of users) {
		await addUser(data, who, role);
	}
}

/* Files the sim printer has written so far into DATA/spool/. */
export function spoolJobs(data) {
	const dir = path.join(data, "spool");
	return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith(".")) : [];
}

/* The print jobs written since BEFORE (a spoolJobs() list) was taken. */
export function newSpoolJobs(data, before) {
	return spoolJobs(data).filter((f) => !before.includes(f));
}

/*
 * Start the daemon on a free port, with DIR/hotline-edge.ini holding
 * config(port) and its output in <build>/e2e/LOG; resolves once
 * /api/v1/health answers, to { url, health, proc, output(), stop() }.
 * stop() sends SIGINT (SIGKILL after 20 s), removes DIR and asserts that the
 * daemon exited with code 0; close the browser (its profile is in DIR) first.
 */
export async function startDaemon({ dir, data, config, log }) {
	const port = await freePort();
	const cfg = path.join(dir, "hotline-edge.ini");
	fs.writeFileSync(cfg, config(port));
	const logFile = fs.createWriteStream(path.join(OUT, log));
	const proc = spawn(BIN, ["--board", "sim", "--data-dir", data, "--config", cfg], {
		stdio: ["ignore", "pipe", "pipe"],
	});
	let output = "";
	for (const s of [proc.stdout, proc.stderr]) {
		s.on("data", (b) => {
			output += b;
			logFile.write(b);
		});
	}
	const exited = new Promise((resolve) =>
		proc.on("exit", (code, signal) => {
			logFile.end();
			resolve({ code, signal });
		}));
	const stop = async () => {
		if (proc.exitCode === null) {
			proc.kill("SIGINT");
		}
		const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
		const e = await exited;
		clearTimeout(timer);
		fs.rmSync(dir, { recursive: true, force: true });
		assert.deepEqual(e, { code: 0, signal: null },
			`hotline-edge did not stop cleanly on SIGINT:\n${output}`);
	};
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
				return { url, health: await r.json(), proc, output: () => output, stop };
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

/*
 * Headless chromium with its profile in DIR/profile, a 1280x800 zh-CN page
 * unless options say otherwise; resolves to the browser context.
 */
export function launchBrowser(dir, options = {}) {
	return chromium.launchPersistentContext(path.join(dir, "profile"), {
		executablePath: CHROMIUM,
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync"],
		viewport: { width: 1280, height: 800 },
		locale: "zh-CN",
		...options,
	});
}

/* The end of every test: the browser (if it started) first, then the daemon. */
export async function shutdown(ctx, daemon) {
	if (ctx) {
		await ctx.close();
	}
	await daemon.stop();
}

/*
 * Collects into problems (returned) what went wrong on page: console errors,
 * page errors, failed requests and answers >= 400, each message prefixed
 * with name if given. An `expected` hook (console(text), failed(request),
 * response(response)) that returns true claims the entry as provoked on
 * purpose; failed: false leaves failed requests unwatched.
 */
export function collectProblems(page, { problems = [], name = "", failed = true, expected = {} } = {}) {
	const pre = name ? `${name} ` : "";
	page.on("console", (m) => {
		if (m.type() === "error" && !(expected.console && expected.console(m.text()))) {
			problems.push(`${pre}console: ${m.text()}`);
		}
	});
	page.on("pageerror", (e) => problems.push(`${pre}page error: ${e.message}`));
	if (failed) {
		page.on("requestfailed", (r) => {
			if (!(expected.failed && expected.failed(r))) {
				problems.push(`${pre}failed: ${r.url()}`);
			}
		});
	}
	page.on("response", (r) => {
		if (r.status() >= 400 && !(expected.response && expected.response(r))) {
			problems.push(`${pre}${r.status()}: ${r.url()}`);
		}
	});
	return problems;
}

/*
 * The frame of a kiosk test: startDaemon({ dir, data, log, config }), the
 * browser (launchBrowser(dir, browser)) on its first page at the kiosk with
 * collectProblems(page, problems) watching it, then
 * body({ d, ctx, page, problems }); whatever happens, shutdown(ctx, d)
 * after it.
 */
export async function withKiosk({ dir, data, log, config, browser = {}, problems = {} }, body) {
	const d = await startDaemon({ dir, data, log, config });
	let ctx = null;
	try {
		ctx = await launchBrowser(dir, browser);
		const page = ctx.pages()[0] || await ctx.newPage();
		const found = collectProblems(page, problems);
		await page.goto(d.url);
		await body({ d, ctx, page, problems: found });
	} finally {
		await shutdown(ctx, d);
	}
}

/* Saves <build>/e2e/NAME.png; options go to page.screenshot(). */
export function screenshot(page, name, options = {}) {
	return page.screenshot({ path: path.join(OUT, `${name}.png`), ...options });
}

export const shown = (sel) => `${sel}:not([hidden])`;

/* From the citizen home to the staff home; keypad: the PIN goes in on the on-screen keypad. */
export async function login(page, who, { keypad = false } = {}) {
	await page.click("#staff-entry");
	await page.waitForSelector(shown("#staff-login"));
	await page.fill("#sl-user", who.id);
	if (keypad) {
		await page.click("#sl-pin");
		for (const d of who.pin) {
			await page.click(`#staff-login .keypad [data-key="${d}"]`);
		}
		assert.equal(await page.inputValue("#sl-pin"), who.pin);
	} else {
		await page.fill("#sl-pin", who.pin);
	}
	await page.click("#sl-submit");
	await page.waitForSelector(shown("#staff-home"));
	assert.equal(await page.textContent("#sh-name"), who.name);
}

export async function logout(page) {
	await page.click("#sh-logout");
	await page.waitForSelector(shown("#home"));
}

/* ---- the city: scripts/gen-test-pki and tools/citysim (docs/citysim.md) ---- */

export const CITYSIM = path.join(BUILD, "tools", "citysim", "citysim");
const GEN_PKI = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..",
	"scripts", "gen-test-pki");

/* CMD ARGS... to its end; resolves to { code, out, err }. */
function run(cmd, args) {
	return new Promise((resolve, reject) => {
		const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		let err = "";
		proc.stdout.on("data", (b) => (out += b));
		proc.stderr.on("data", (b) => (err += b));
		proc.on("error", reject);
		proc.on("exit", (code) => resolve({ code, out, err }));
	});
}

/* The test PKI in DIR/pki (ca.crt, city.crt/.key, device.crt/.key for sim-0001, ...). */
export async function makePki(dir) {
	const pki = path.join(dir, "pki");
	const r = await run(GEN_PKI, [pki]);
	assert.equal(r.code, 0, `gen-test-pki failed:\n${r.err}`);
	return pki;
}

/*
 * The device identity of PKI in DATA/keys/ as the daemon loads it:
 * device.key (0600), device.crt and the pinned city-ca.crt (the test CA).
 */
export function installIdentity(data, pki) {
	const keys = path.join(data, "keys");
	fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
	fs.copyFileSync(path.join(pki, "device.key"), path.join(keys, "device.key"));
	fs.chmodSync(path.join(keys, "device.key"), 0o600);
	fs.copyFileSync(path.join(pki, "device.crt"), path.join(keys, "device.crt"));
	fs.copyFileSync(path.join(pki, "ca.crt"), path.join(keys, "city-ca.crt"));
}

/* `citysim SUBCOMMAND --data CITYDATA ARGS...`; asserts exit 0, resolves to its output. */
export async function cityCli(cityData, sub, args = []) {
	const r = await run(CITYSIM, [sub, "--data", cityData, ...args]);
	assert.equal(r.code, 0, `citysim ${sub} failed:\n${r.out}${r.err}`);
	return r.out;
}

/*
 * citysim on 127.0.0.1 with PKI/city.crt, trusting PKI/ca.crt, its store in
 * DIR/city-data and its log in <build>/e2e/LOG; port 0 picks a free one.
 * Resolves once it listens to { port, data, stop() } (stop: SIGTERM, which
 * must exit 0; SIGKILL after 10 s). extra: more options (--reject-type ...).
 */
export async function startCity({ dir, pki, port = 0, log = "citysim.log", extra = [] }) {
	const data = path.join(dir, "city-data");
	const portFile = path.join(dir, "citysim.port");
	fs.rmSync(portFile, { force: true });
	const proc = spawn(CITYSIM, ["--listen", `127.0.0.1:${port}`,
		"--cert", path.join(pki, "city.crt"), "--key", path.join(pki, "city.key"),
		"--ca", path.join(pki, "ca.crt"), "--data", data, "--port-file", portFile,
		"--log", path.join(OUT, log), ...extra], { stdio: ["ignore", "ignore", "pipe"] });
	let err = "";
	proc.stderr.on("data", (b) => (err += b));
	const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
	const stop = async () => {
		if (proc.exitCode === null && proc.signalCode === null) {
			proc.kill("SIGTERM");
		}
		const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
		const e = await exited;
		clearTimeout(timer);
		assert.deepEqual(e, { code: 0, signal: null }, `citysim did not stop cleanly:\n${err}`);
	};
	const deadline = Date.now() + 10000;
	for (;;) {
		if (proc.exitCode !== null) {
			throw new Error(`citysim exited early (${proc.exitCode}):\n${err}`);
		}
		const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, "utf8").trim() : "";
		if (/^\d+$/.test(text) && Number(text) > 0) {
			return { port: Number(text), data, proc, stop };
		}
		if (Date.now() > deadline) {
			proc.kill("SIGKILL");
			throw new Error(`citysim did not listen within 10 s:\n${err}`);
		}
		await sleep(50);
	}
}

/*
 * On the open order's page: click the action button `action`, let fill()
 * fill its dialog, confirm, and wait for POST …/verb (asserted ok and sent
 * with the CSRF token) and the dialog to close.
 */
export async function orderAction(page, action, verb, fill) {
	await page.click(`#so-actions [data-act="${action}"]`);
	await page.waitForSelector(shown("#staff-dialog"));
	if (fill) {
		await fill();
	}
	const [resp] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/${verb}`)),
		page.click("#sd-confirm"),
	]);
	assert.ok(resp.ok(), `${verb}: HTTP ${resp.status()} ${await resp.text()}`);
	assert.ok(resp.request().headers()["x-csrf-token"], `${verb} was sent without X-CSRF-Token`);
	await page.waitForSelector("#staff-dialog", { state: "hidden" });
}
