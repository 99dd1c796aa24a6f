/*
 * Browser test of the staff screens against the real daemon: the first
 * supervisor is made with `hotline-edge admin add-user`, then everything
 * else goes through the kiosk page in Debian's chromium (playwright-core):
 * log in with the on-screen keypad, add a staff user, log out, a wrong PIN,
 * the staff home without user management, the idle warning and the idle
 * logout back to the citizen home, an expired session, the audit log
 * (filters, CSV export, chain check) and the lockout message. The config
 * sets the shortest auth.idle_timeout_s, so the idle rule is seen in half
 * a minute, and auth.lock_after = 3.
 * Screenshots go to <build>/e2e/staff-*.png. Besides the 4xx answers the
 * test provokes on purpose, no request may fail and nothing may reach the
 * console (a CSP violation would).
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
const IDLE_S = 30; /* the shortest auth.idle_timeout_s allowed */
const BOSS = { id: "boss", name: "王主管", pin: "135790" };
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
	fs.writeFileSync(cfg, `[http]\nport = ${port}\n\n[auth]\nidle_timeout_s = ${IDLE_S}\nlock_after = 3\n`);
	const log = fs.createWriteStream(path.join(OUT, "hotline-edge-staff.log"));
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

/* From the citizen home to the staff home; the PIN goes in on the keypad. */
async function login(page, who) {
	await page.click("#staff-entry");
	await page.waitForSelector(shown("#staff-login"));
	await page.fill("#sl-user", who.id);
	await page.click("#sl-pin");
	for (const d of who.pin) {
		await page.click(`#staff-login .keypad [data-key="${d}"]`);
	}
	assert.equal(await page.inputValue("#sl-pin"), who.pin);
	await page.click("#sl-submit");
	await page.waitForSelector(shown("#staff-home"));
	assert.equal(await page.textContent("#sh-name"), who.name);
}

/* Submit the login form; returns the API's answer to it. */
async function tryLogin(page, id, pin) {
	await page.fill("#sl-user", id);
	await page.fill("#sl-pin", pin);
	const [resp] = await Promise.all([
		page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/login")),
		page.click("#sl-submit"),
	]);
	return { status: resp.status(), body: await resp.json() };
}

async function logout(page) {
	await page.click("#sh-logout");
	await page.waitForSelector(shown("#home"));
	assert.ok(await page.isHidden("#staff-home"));
	assert.ok(await page.isVisible("#staff-entry"));
}

test("staff login, user management, idle logout and audit log", { timeout: 180000 }, async (t) => {
	if (!fs.existsSync(CHROMIUM)) {
		t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
		return;
	}
	assert.ok(fs.existsSync(BIN), `${BIN} is missing: build the tree first`);
	fs.mkdirSync(OUT, { recursive: true });
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "he-e2e-staff-"));
	const data = path.join(dir, "data");
	fs.mkdirSync(data);

	const made = await admin(data, ["add-user", BOSS.id, "supervisor", "--name", BOSS.name],
		BOSS.pin);
	assert.equal(made.code, 0, `admin add-user failed:\n${made.output}`);

	const d = await startDaemon(dir, data, await freePort());
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
			acceptDownloads: true,
		});
		const page = ctx.pages()[0] || await ctx.newPage();
		const problems = [];
		const loadErrors = [];
		let allowed = []; /* [status, path] answers the current step provokes */
		let provoked = 0;
		page.on("console", (m) => {
			if (m.type() !== "error") {
				return;
			}
			/* chromium logs every 4xx fetch; those are checked below */
			if (/^Failed to load resource: the server responded with a status of 4\d\d/
				.test(m.text())) {
				loadErrors.push(m.text());
			} else {
				problems.push(`console: ${m.text()}`);
			}
		});
		page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
		page.on("requestfailed", (r) => {
			/* a download is handed to the download manager, not failed */
			if (!r.url().includes("/api/v1/audit/export")) {
				problems.push(`failed: ${r.url()}`);
			}
		});
		page.on("response", (r) => {
			if (r.status() < 400) {
				return;
			}
			const p = new URL(r.url()).pathname;
			if (allowed.some(([s, ap]) => s === r.status() && ap === p)) {
				provoked++;
			} else {
				problems.push(`${r.status()}: ${r.url()}`);
			}
		});

		await page.goto(d.url);
		await page.waitForSelector("#staff-entry");
		assert.equal(await page.textContent("#staff-entry"), "工作人员登录");

		/* The supervisor logs in with the on-screen keypad. */
		await page.click("#staff-entry");
		await page.waitForSelector(shown("#staff-login"));
		assert.ok(await page.isHidden("#home"));
		assert.equal(await page.textContent("#staff-login h2"), "工作人员登录");
		await page.screenshot({ path: path.join(OUT, "staff-login.png") });
		await page.click("#sl-back");
		await page.waitForSelector(shown("#home"));
		await login(page, BOSS);
		assert.equal(await page.textContent("#sh-role"), "主管");
		assert.ok(await page.isVisible(".sh-tab[data-tab=users]"));
		assert.ok(await page.isVisible(".sh-tab[data-tab=audit]"));
		await page.screenshot({ path: path.join(OUT, "staff-home.png") });

		/* ... and adds a staff user, the PIN entered twice. */
		await page.click(".sh-tab[data-tab=users]");
		await page.waitForSelector(`tr[data-user="${BOSS.id}"]`);
		await page.click("#su-add");
		await page.fill("#su-id", CLERK.id);
		await page.fill("#su-name", CLERK.name);
		await page.check("#su-form input[name=su-role][value=staff]");
		await page.fill("#su-pin", CLERK.pin);
		await page.fill("#su-pin2", CLERK.pin.split("").reverse().join(""));
		await page.click("#su-create");
		assert.match(await page.textContent("#su-form-msg"), /两次输入的密码不一致/);
		await page.fill("#su-pin", CLERK.pin);
		await page.fill("#su-pin2", CLERK.pin);
		await page.click("#su-create");
		await page.waitForSelector(`tr[data-user="${CLERK.id}"], ${shown("#su-form-msg")}`);
		assert.ok(await page.isHidden("#su-form-msg"),
			`adding a user failed: ${await page.textContent("#su-form-msg")}`);
		assert.match(await page.textContent(`tr[data-user="${CLERK.id}"]`), /李四.*工作人员.*正常/);
		assert.match(await page.textContent("#su-msg"), /已添加用户 li01/);
		/* a supervisor is not offered to disable or demote themselves */
		assert.equal(await page.locator(`tr[data-user="${BOSS.id}"] [data-act=disable]`).count(), 0);
		await page.screenshot({ path: path.join(OUT, "staff-users.png"), fullPage: true });

		/* Destructive actions ask first; cancel changes nothing. */
		const row = `tr[data-user="${CLERK.id}"]`;
		await page.click(`${row} [data-act=disable]`);
		await page.waitForSelector(shown("#staff-dialog"));
		assert.match(await page.textContent("#staff-dialog .sd-text"), /停用 li01（李四）/);
		await page.click("#sd-cancel");
		assert.ok(await page.isHidden("#staff-dialog"));
		assert.match(await page.textContent(row), /正常/);
		await page.click(`${row} [data-act=disable]`);
		await page.click("#sd-confirm");
		await page.waitForSelector(`${row}.is-disabled`);
		assert.match(await page.textContent(row), /已停用/);
		await page.click(`${row} [data-act=enable]`);
		await page.click("#sd-confirm");
		await page.waitForSelector(`${row}:not(.is-disabled)`);
		/* a new PIN, typed twice on the dialog's keypad */
		CLERK.pin = "864200";
		await page.click(`${row} [data-act=reset-pin]`);
		for (const sel of ["#sd-pin", "#sd-pin2"]) {
			await page.click(sel);
			for (const k of CLERK.pin) {
				await page.click(`#staff-dialog .keypad [data-key="${k}"]`);
			}
		}
		await page.click("#sd-confirm");
		await page.waitForSelector("#staff-dialog", { state: "hidden" });
		assert.match(await page.textContent("#su-msg"), /已保存：li01/);
		await logout(page);

		/* A wrong PIN says so in the API's own words, and clears the PIN. */
		await page.click("#staff-entry");
		allowed = [[401, "/api/v1/auth/login"]];
		const bad = await tryLogin(page, CLERK.id, "999999");
		assert.equal(bad.status, 401);
		assert.equal(bad.body.error.code, "bad_credentials");
		await page.waitForSelector(shown("#sl-msg"));
		assert.equal(await page.textContent("#sl-msg"), bad.body.error.message_zh);
		assert.equal(await page.inputValue("#sl-pin"), "");
		allowed = [];

		/* The staff home offers no user management or audit log. */
		await page.click("#sl-back");
		await login(page, CLERK);
		assert.equal(await page.textContent("#sh-role"), "工作人员");
		assert.ok(await page.isHidden(".sh-tab[data-tab=users]"));
		assert.ok(await page.isHidden(".sh-tab[data-tab=audit]"));
		assert.match(await page.textContent("#sh-intro"), /尚未安装/);
		await page.screenshot({ path: path.join(OUT, "staff-home-staff.png") });

		/* Walking away: a warning first, "keep working" keeps the session... */
		await page.click("#lang");
		assert.equal(await page.getAttribute("html", "lang"), "en");
		await page.waitForSelector(shown("#staff-idle"), { timeout: IDLE_S * 1000 });
		assert.match(await page.textContent("#si-msg"), /logged out in \d+ s/);
		await page.click("#si-keep");
		assert.ok(await page.isHidden("#staff-idle"));
		assert.ok(await page.isVisible("#staff-home"));
		/* ... and without it, the screen logs out and is the citizen's again, in Chinese. */
		const t0 = Date.now();
		await page.waitForSelector(shown("#staff-idle"), { timeout: IDLE_S * 1000 });
		await page.waitForSelector(shown("#home"), { timeout: IDLE_S * 1000 });
		const waited = Date.now() - t0;
		t.diagnostic(`idle logout ${waited} ms after the last touch (idle_timeout_s ${IDLE_S})`);
		/* the screen goes a second before the server would (docs/ui.md) */
		assert.ok(waited >= (IDLE_S - 2) * 1000, `logged out after ${waited} ms`);
		assert.ok(await page.isHidden("#staff-home"));
		assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
		const me = await page.request.get(d.url + "api/v1/auth/me");
		assert.equal(me.status(), 401, "the idle logout must end the session on the server");

		/* A session that is gone on the server sends the screen back to login. */
		await login(page, BOSS);
		await ctx.clearCookies();
		allowed = [[401, "/api/v1/users"], [401, "/api/v1/auth/me"]];
		await page.click(".sh-tab[data-tab=users]");
		await page.waitForSelector(shown("#staff-login"));
		assert.equal(await page.textContent("#sl-msg"), "登录已过期，请重新登录");
		allowed = [];
		await page.click("#sl-back");

		/* The audit log shows the logins, newest first. */
		await login(page, BOSS);
		await page.click(".sh-tab[data-tab=audit]");
		await page.waitForSelector("#sa-rows tr");
		const rows = await page.$$eval("#sa-rows tr", (trs) => trs.map((tr) => ({
			id: Number(tr.dataset.id),
			outcome: tr.dataset.outcome,
			actor: tr.children[1].textContent,
			action: tr.children[2].textContent,
			target: tr.children[3].textContent,
		})));
		const ids = rows.map((r) => r.id);
		assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "newest first");
		for (const who of [BOSS.id, CLERK.id]) {
			assert.ok(rows.some((r) => r.action.startsWith("auth.login") && r.outcome === "ok" &&
				r.actor.startsWith(who)), `no successful login of ${who} in the audit log`);
		}
		assert.ok(rows.some((r) => r.action.startsWith("auth.") && r.outcome !== "ok" &&
			(r.actor.startsWith(CLERK.id) || r.target === CLERK.id)),
		"no failed login of li01 in the audit log");
		assert.ok(rows.some((r) => r.action.startsWith("user.") && r.target === CLERK.id),
			"adding li01 is not in the audit log");
		assert.ok(rows.some((r) => r.action.startsWith("auth.logout") && r.actor.startsWith(CLERK.id)),
			"the idle logout of li01 is not in the audit log");
		await page.screenshot({ path: path.join(OUT, "staff-audit.png"), fullPage: true });

		/* Filters: one actor; one action prefix. */
		await page.fill("#sa-actor", CLERK.id);
		await page.click("#sa-search");
		await page.waitForFunction(() => document.getElementById("sa-msg").textContent !== "" &&
			!document.getElementById("sa-search").disabled);
		const actors = await page.$$eval("#sa-rows tr td:nth-child(2)",
			(tds) => tds.map((td) => td.textContent));
		assert.ok(actors.length > 0);
		for (const a of actors) {
			assert.ok(a.startsWith(CLERK.id), `actor filter let through ${a}`);
		}
		await page.fill("#sa-actor", "");
		await page.selectOption("#sa-action", "auth.");
		await page.click("#sa-search");
		await page.waitForFunction(() => !document.getElementById("sa-search").disabled);
		const actions = await page.$$eval("#sa-rows tr td:nth-child(3)",
			(tds) => tds.map((td) => td.textContent));
		assert.ok(actions.length > 0);
		for (const a of actions) {
			assert.ok(a.startsWith("auth."), `action filter let through ${a}`);
		}

		/* Export: a CSV file for Excel (BOM, header row) with the filtered rows. */
		const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#sa-export")]);
		assert.match(dl.suggestedFilename(), /^audit-.*\.csv$/);
		const csv = fs.readFileSync(await dl.path(), "utf8");
		assert.ok(csv.startsWith("\ufeff"), "the CSV starts with a BOM");
		const lines = csv.slice(1).trim().split(/\r?\n/);
		assert.match(lines[0], /action/);
		assert.ok(lines.length > actions.length - 1, `${lines.length} CSV lines`);
		assert.ok(lines.slice(1).every((l) => l.includes("auth.")), "the export keeps the filter");
		assert.ok(lines.some((l) => l.includes("auth.login") && l.includes(CLERK.id)));

		/* The hash chain is intact. */
		await page.click("#sa-verify");
		await page.waitForSelector(shown("#sa-verify-msg"));
		assert.equal(await page.getAttribute("#sa-verify-msg", "data-intact"), "true");
		assert.match(await page.textContent("#sa-verify-msg"), /审计日志完整/);
		await logout(page);

		/* Wrong PINs lock the account; the screen says for how long. */
		await page.click("#staff-entry");
		allowed = [[401, "/api/v1/auth/login"], [423, "/api/v1/auth/login"]];
		let locked = null;
		for (let i = 0; i < 8 && !locked; i++) {
			const r = await tryLogin(page, CLERK.id, "000000");
			if (r.status === 423) {
				locked = r.body;
			}
		}
		assert.ok(locked, "no lock after 8 wrong PINs");
		await page.waitForFunction(() =>
			/账户已锁定。请 \d+ 分钟后再试/.test(document.getElementById("sl-msg").textContent));
		allowed = [];

		assert.equal(loadErrors.length, provoked,
			`console errors beyond the provoked 4xx: ${loadErrors.join("; ")}`);
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
