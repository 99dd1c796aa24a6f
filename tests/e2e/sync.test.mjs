/*
 * Browser test of the sync screens against the real daemon (sim board)
 * and the reference city platform (tools/citysim) over mutual TLS on the
 * simulated uplink (lwIP on slirp; 10.0.2.2 reaches the host's loopback),
 * with the test PKI of scripts/gen-test-pki installed as the device's
 * identity.
 *
 * The story of run-sim: the city dispatches an order with the citysim CLI
 * and it appears on the staff screen; a clerk signs for it, assigns it and
 * drafts the reply, the supervisor signs it off; the city's store then
 * holds the receipt and the reply, and the backlog panel on the orders home
 * says 0 waiting with a last sync time. Then the city goes down: an action
 * waits (the panel says 1 waiting and why, in plain words), the city comes
 * back on the same port and "retry now" drains it to 0. A decision the
 * order's state does not allow is shown to staff as a conflict, which the
 * supervisor resolves with a note. Screenshots go to <build>/e2e/sync-*.png.
 * No request may fail and nothing may reach the console (a CSP violation
 * would).
 *
 * The worker polls the city every 30 s when idle; the test presses the
 * supervisor's 立即重试 / "retry now" instead of waiting for it.
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
	CITYSIM, addUsers, cityCli, installIdentity, login, logout, makePki, orderAction as act, ready, screenshot, shown,
	startCity, withKiosk, workDir,
} from "./harness.mjs";

const BOSS = { id: "boss", name: "王主管", pin: "135790" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };
const TECH = { id: "tech", name: "赵工", pin: "975310" };
const DEVICE = "sim-0001";

/* The stored events of the device at the city: JSON lines of `citysim events`. */
async function cityEvents(cityData, type) {
	const out = await cityCli(cityData, "events", ["--device", DEVICE, ...(type ? ["--type", type] : [])]);
	return out.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

async function stateIs(page, zh) {
	await page.waitForFunction((w) => document.getElementById("so-d-state") &&
		document.getElementById("so-d-state").textContent === w, zh);
}

/* The orders tab's list (searched afresh) to the order NUMBER's page. */
async function openOrder(page, number) {
	await page.click('.sh-tab[data-tab="orders"]');
	await page.click("#so-reset");
	await page.waitForSelector(`#so-table tr[data-number="${number}"]`);
	await page.click(`#so-table tr[data-number="${number}"]`);
	await page.waitForSelector(shown("#so-detail") + " #so-d-number");
	assert.equal(await page.textContent("#so-d-number"), number);
}

/* The supervisor's Sync tab: press 立即重试 and wait for its 202. */
async function retryNow(page) {
	await page.click('.sh-tab[data-tab="sync"]');
	await page.waitForSelector(shown("#sh-sync") + " #sy-kick");
	const [resp] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === "POST" &&
			r.url().endsWith("/api/v1/sync/kick")),
		page.click("#sy-kick"),
	]);
	assert.equal(resp.status(), 202, `kick: ${await resp.text()}`);
	assert.ok(resp.request().headers()["x-csrf-token"], "kick was sent without X-CSRF-Token");
}

/* Wait (bounded) until the panel PREFIX (sy-h- or sy-t-) shows N waiting. */
async function waitingIs(page, prefix, n, timeout = 15000) {
	await page.waitForFunction(([p, v]) => {
		const el = document.getElementById(p + "waiting");
		return el && el.dataset.n === String(v);
	}, [prefix, n], { timeout, polling: 250 });
}

/* The daemon's own answer, read with the page's session. */
function status(page) {
	return page.evaluate(async () => (await fetch("/api/v1/sync/status", { cache: "no-store" })).json());
}

test("an order from the city reaches the kiosk, the reply reaches the city, a backlog drains",
	{ timeout: 120000 }, async (t) => {
		if (!ready(t)) {
			return;
		}
		assert.ok(fs.existsSync(CITYSIM), `${CITYSIM} is missing: build the tree first`);
		const t0 = Date.now();
		const { dir, data } = workDir("he-e2e-sync-");
		/* the city's side outlives the daemon's scratch directory (removed at its stop) */
		const cityDir = fs.mkdtempSync(path.join(os.tmpdir(), "he-e2e-city-"));
		const pki = await makePki(cityDir);
		installIdentity(data, pki);
		await addUsers(data, [[BOSS, "supervisor"], [CLERK, "staff"], [TECH, "technician"]]);
		let city = await startCity({ dir: cityDir, pki, log: "citysim-sync.log" });
		const cityPort = city.port;

		/* While the city is down its connections are refused: expected. */
		let cityDown = false;
		try {
			await withKiosk({
				dir, data, log: "hotline-edge-sync.log",
				config: (port) => `[http]\nport = ${port}\n` +
					`[city]\naddress = 10.0.2.2\nport = ${cityPort}\nhostname = city.hotline.test\n`,
				browser: { viewport: { width: 1280, height: 1024 } },
				problems: { name: "kiosk" },
			}, async ({ page, problems }) => {

				/* The city dispatches; the supervisor has the worker ask at once. */
				const number = (await cityCli(city.data, "dispatch", ["--device", DEVICE,
					"--title", "路灯不亮", "--content", "幸福路东段三盏路灯连续一周不亮，夜间行人不便。",
					"--name", "陈小明", "--phone", "13900001111"])).trim();
				assert.match(number, /^GD\d{10}$/);
				await login(page, BOSS);
				await page.waitForSelector(shown("#sy-home"));
				await retryNow(page);
				/* The sync tab shows the city it talks to and the clock check. */
				await page.waitForFunction(() =>
					/city\.hotline\.test（10\.0\.2\.2:\d+）/.test(document.getElementById("sy-t-city").textContent));
				await page.click('.sh-tab[data-tab="orders"]');
				await page.click("#so-reset");
				await page.waitForSelector(`#so-table tr[data-number="${number}"]`, { timeout: 15000 });
				const tArrived = Date.now() - t0;
				await logout(page);

				/* The clerk sees it on the staff home, signs, assigns, drafts. */
				await login(page, CLERK);
				await page.waitForSelector(shown("#sy-home"));
				assert.ok(await page.isHidden('.sh-tab[data-tab="sync"]'), "staff must not see the Sync tab");
				await openOrder(page, number);
				await stateIs(page, "待签收");
				await act(page, "sign", "sign");
				await stateIs(page, "已签收");
				await act(page, "assign", "assign", async () => {
					await page.waitForSelector("#so-lead option", { state: "attached" });
				});
				await stateIs(page, "办理中");
				await act(page, "draft_reply", "draft-reply", () =>
					page.fill("#so-reply", "已联系路灯管理所，三盏路灯已于当日修复。"));
				await stateIs(page, "待审核");
				/* The backlog panel on the orders home says what the server says (the
				 * worker's idle round may send the clerk's steps at any moment). */
				await page.click('.sh-tab[data-tab="orders"]');
				await page.waitForFunction(async () => {
					const s = await (await fetch("/api/v1/sync/status", { cache: "no-store" })).json();
					const el = document.getElementById("sy-h-waiting");
					return el.dataset.n === String(s.waiting);
				}, null, { timeout: 15000, polling: 500 });
				await screenshot(page, "sync-home-clerk", { fullPage: true });
				await logout(page);

				/* The supervisor signs it off and sends it now. */
				await login(page, BOSS);
				await openOrder(page, number);
				await act(page, "sign_off", "sign-off");
				await stateIs(page, "已答复");
				await retryNow(page);
				await waitingIs(page, "sy-t-", 0);
				await page.waitForFunction(() => document.getElementById("sy-t-state").textContent === "已同步");
				assert.ok(await page.isHidden("#sy-t-error"), "an error is shown after a good round");
				const tReplied = Date.now() - t0;

				/* The city holds the receipt and the reply, exactly once. */
				const received = await cityEvents(city.data, "order.received");
				const replied = await cityEvents(city.data, "order.replied");
				assert.equal(received.length, 1, JSON.stringify(received));
				assert.equal(replied.length, 1, JSON.stringify(replied));
				const reply = typeof replied[0].payload === "string" ?
					JSON.parse(replied[0].payload) : replied[0].payload;
				assert.equal(reply.number, number);
				assert.match(reply.reply, /三盏路灯已于当日修复/);

				/* The orders home: 0 waiting, a last sync time, in words. */
				await page.click('.sh-tab[data-tab="orders"]');
				await waitingIs(page, "sy-h-", 0);
				assert.equal(await page.textContent("#sy-h-state"), "已同步");
				assert.equal(await page.getAttribute("#sy-h-last-ok", "data-known"), "1");
				assert.match(await page.textContent("#sy-h-last-ok"), /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d（.+前）/);
				assert.match(await page.textContent("#sy-h-oldest"), /没有待发送的数据/);
				await screenshot(page, "sync-home-synced", { fullPage: true });

				/* The city goes down; an attachment to the reply waits. */
				await city.stop();
				cityDown = true;
				await openOrder(page, number);
				await page.setInputFiles("#so-file", { name: "photo.png", mimeType: "image/png",
					buffer: Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64") });
				const [uploaded] = await Promise.all([
					page.waitForResponse((r) => r.request().method() === "POST" &&
						/\/attachments\?name=photo\.png$/.test(r.url())),
					page.click("#so-upload"),
				]);
				assert.equal(uploaded.status(), 201, await uploaded.text());
				await retryNow(page);
				await waitingIs(page, "sy-t-", 1);
				await page.waitForSelector(shown("#sy-t-error"), { timeout: 15000 });
				const down = await status(page);
				assert.ok(down.last_error && down.last_error.message_zh, JSON.stringify(down));
				assert.equal(await page.textContent("#sy-t-error"), down.last_error.message_zh);
				assert.match(await page.textContent("#sy-t-state"), /网络中断，.*自动重试|已停止/);
				await screenshot(page, "sync-tab-down", { fullPage: true });
				await page.click('.sh-tab[data-tab="orders"]');
				await waitingIs(page, "sy-h-", 1);
				assert.match(await page.textContent("#sy-h-oldest"), /等待不到 1 分钟|已等待 \d+ (分钟|小时)/);
				assert.equal(await page.textContent("#sy-h-error"), down.last_error.message_zh);
				await screenshot(page, "sync-home-down", { fullPage: true });

				/* English on the switch: the server's English words. */
				await page.click("#lang");
				assert.equal(await page.textContent("#sy-h-error"), down.last_error.message);
				assert.match(await page.textContent("#sy-home"), /Waiting to send/);
				await screenshot(page, "sync-home-down-en", { fullPage: true });
				await page.click("#lang");

				/* Back on the same port, now refusing attachments (to see a refusal parked),
				 * with a decision the order's state does not allow. */
				city = await startCity({ dir: cityDir, pki, port: cityPort, log: "citysim-sync-2.log",
					extra: ["--reject-type", "order.attachment_added"] });
				cityDown = false;
				await cityCli(city.data, "decide-return", ["--device", DEVICE, "--number", number,
					"--approve"]);
				await retryNow(page);
				await waitingIs(page, "sy-t-", 0);
				await page.waitForFunction(() => document.getElementById("sy-t-state").textContent === "已同步");
				const up = await status(page);
				assert.equal(up.parked, 1, JSON.stringify(up));
				assert.equal(up.conflicts, 1, JSON.stringify(up));
				assert.equal((await cityEvents(city.data, "order.attachment_added")).length, 0);
				const cityStatus = JSON.parse((await cityCli(city.data, "status")).trim().split("\n")[0]);
				assert.equal(cityStatus.rejected, 1, JSON.stringify(cityStatus));
				/* The conflict is listed with the order's number, for the supervisor to resolve. */
				await page.waitForSelector("#sy-conflicts tr[data-id] [data-resolve]", { timeout: 15000 });
				assert.match(await page.textContent("#sy-conflicts"), new RegExp(number));
				await screenshot(page, "sync-tab-conflict", { fullPage: true });
				/* The orders home says in words that both need a person. */
				await page.click('.sh-tab[data-tab="orders"]');
				await page.waitForSelector(shown("#sy-h-conflicts"));
				await page.waitForSelector(shown("#sy-h-parked"));
				assert.match(await page.textContent("#sy-h-conflicts"), /1 条指令/);
				await logout(page);

				/* The technician sees the refusal and why; conflicts read-only. */
				await login(page, TECH);
				await page.click('.sh-tab[data-tab="sync"]');
				await page.waitForSelector("#sy-parked tr[data-seq]");
				const parkedRow = await page.textContent("#sy-parked tr[data-seq]");
				assert.match(parkedRow, /添加附件/);
				const parked = await page.evaluate(async () =>
					(await fetch("/api/v1/sync/parked", { cache: "no-store" })).json());
				assert.equal(parked.total, 1);
				assert.ok(parkedRow.includes(parked.rows[0].message_zh || parked.rows[0].code), parkedRow);
				await page.waitForSelector("#sy-conflicts tr[data-id] .sy-open");
				assert.equal(await page.$("#sy-conflicts [data-resolve]"), null);
				assert.ok(await page.isVisible("#sy-kick"));
				await screenshot(page, "sync-tab-technician", { fullPage: true });
				await logout(page);

				/* The supervisor resolves the conflict; a note is required. */
				await login(page, BOSS);
				await page.click('.sh-tab[data-tab="sync"]');
				await page.waitForSelector("#sy-conflicts [data-resolve]");
				await page.click("#sy-conflicts [data-resolve]");
				await page.waitForSelector(shown("#staff-dialog"));
				await page.click("#sd-confirm");
				await page.waitForSelector(shown("#staff-dialog") + " .s-msg");
				assert.match(await page.textContent("#staff-dialog .s-msg"), /请填写处理说明/);
				await page.fill("#sy-note", "已电话核实：该工单未申请退回，已答复，无需处理。");
				const [resolved] = await Promise.all([
					page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/resolve")),
					page.click("#sd-confirm"),
				]);
				assert.ok(resolved.ok(), `resolve: ${resolved.status()} ${await resolved.text()}`);
				assert.ok(resolved.request().headers()["x-csrf-token"], "resolve was sent without X-CSRF-Token");
				await page.waitForSelector("#staff-dialog", { state: "hidden" });
				await page.waitForSelector("#sy-conflicts [data-resolve]", { state: "detached" });
				assert.match(await page.textContent("#sy-conflicts"), /没有待处理的冲突/);
				await page.check("#sy-conflicts-all");
				await page.waitForFunction(() => /已由 boss 于/.test(document.getElementById("sy-conflicts").textContent));
				assert.equal((await status(page)).conflicts, 0);
				await logout(page);

				console.log(`sync e2e: order on the kiosk after ${tArrived} ms, reply at the city ` +
					`after ${tReplied} ms, whole story ${Date.now() - t0} ms`);
				assert.deepEqual(problems, []);
			});
		} finally {
			if (!cityDown) {
				await city.stop();
			}
			fs.rmSync(cityDir, { recursive: true, force: true });
		}
	});
