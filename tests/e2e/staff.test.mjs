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
import fs from "node:fs";
import {
	addUser, collectProblems, launchBrowser, login as harnessLogin, logout as harnessLogout,
	ready, screenshot, shown, shutdown, startDaemon, workDir,
} from "./harness.mjs";

const IDLE_S = 30; /* the shortest auth.idle_timeout_s allowed */
const BOSS = { id: "boss", name: "王主管", pin: "135790" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };

/* From the citizen home to the staff home; the PIN goes in on the keypad. */
function login(page, who) {
	return harnessLogin(page, who, { keypad: true });
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
	await harnessLogout(page);
	assert.ok(await page.isHidden("#staff-home"));
	assert.ok(await page.isVisible("#staff-entry"));
}

test("staff login, user management, idle logout and audit log", { timeout: 180000 }, async (t) => {
	if (!ready(t)) {
		return;
	}
	const { dir, data } = workDir("he-e2e-staff-");

	await addUser(data, BOSS, "supervisor");

	const d = await startDaemon({
		dir, data, log: "hotline-edge-staff.log",
		config: (port) =>
			`[http]\nport = ${port}\n\n[auth]\nidle_timeout_s = ${IDLE_S}\nlock_after = 3\n`,
	});
	let ctx = null;
	try {
		ctx = await launchBrowser(dir, { acceptDownloads: true });
		const page = ctx.pages()[0] || await ctx.newPage();
		const loadErrors = [];
		let allowed = []; /* [status, path] answers the current step provokes */
		let provoked = 0;
		const problems = collectProblems(page, {
			expected: {
				/* chromium logs every 4xx fetch; those are checked below */
				console: (text) => {
					if (/^Failed to load resource: the server responded with a status of 4\d\d/
						.test(text)) {
						loadErrors.push(text);
						return true;
					}
					return false;
				},
				/* a download is handed to the download manager, not failed */
				failed: (r) => r.url().includes("/api/v1/audit/export"),
				response: (r) => {
					const p = new URL(r.url()).pathname;
					if (allowed.some(([s, ap]) => s === r.status() && ap === p)) {
						provoked++;
						return true;
					}
					return false;
				},
			},
		});

		await page.goto(d.url);
		await page.waitForSelector("#staff-entry");
		assert.equal(await page.textContent("#staff-entry"), "工作人员登录");

		/* The supervisor logs in with the on-screen keypad. */
		await page.click("#staff-entry");
		await page.waitForSelector(shown("#staff-login"));
		assert.ok(await page.isHidden("#home"));
		assert.equal(await page.textContent("#staff-login h2"), "工作人员登录");
		await screenshot(page, "staff-login");
		await page.click("#sl-back");
		await page.waitForSelector(shown("#home"));
		await login(page, BOSS);
		assert.equal(await page.textContent("#sh-role"), "主管");
		assert.ok(await page.isVisible(".sh-tab[data-tab=users]"));
		assert.ok(await page.isVisible(".sh-tab[data-tab=audit]"));
		await screenshot(page, "staff-home");

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
		await screenshot(page, "staff-users", { fullPage: true });

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
		assert.match(await page.textContent("#sh-intro"), /工单/);
		await screenshot(page, "staff-home-staff");

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
		await screenshot(page, "staff-audit", { fullPage: true });

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
		await shutdown(ctx, d);
	}
});
