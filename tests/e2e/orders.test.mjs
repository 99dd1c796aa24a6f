/*
 * Browser test of the work-order screens against the real daemon (sim
 * board), offline: an order dispatched with `hotline-edge admin
 * city-event` is the first thing staff see after login (the 工单 tab, its
 * home band); they sign for it, print its slip (the sim printer writes the
 * job to DATA_DIR/spool/), assign it and draft a reply; an urging notice
 * from the city shows as a red banner; the supervisor signs the reply off
 * (已答复, waiting to send) and acknowledges the notice, which ends the
 * banner; the figures draw as bar charts; English via the switch.
 * Screenshots go to <build>/e2e/orders-*.png. No request may fail and
 * nothing may reach the console (a CSP violation would).
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
	addUsers, admin, login, logout, newSpoolJobs, orderAction as act, ready, screenshot, shown, spoolJobs, withKiosk,
	workDir,
} from "./harness.mjs";

const BOSS = { id: "boss", name: "王主管", pin: "135790" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };
const NUMBER = "SZ20240815001";
/* A 1x1 PNG, as a phone's photo of a paper reply would be (only smaller). */
const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/* `hotline-edge admin city-event FILE` with the item(s) written to DIR/NAME.json. */
async function cityEvent(dir, data, name, item) {
	const file = path.join(dir, `${name}.json`);
	fs.writeFileSync(file, JSON.stringify(item));
	await admin(data, ["city-event", file]);
}

async function stateIs(page, zh) {
	await page.waitForFunction((w) => document.getElementById("so-d-state") &&
		document.getElementById("so-d-state").textContent === w, zh);
}

/* From the orders tab's list to the order's page. */
async function openOrder(page) {
	await page.click("#so-reset");
	await page.waitForSelector(`#so-table tr[data-number="${NUMBER}"]`);
	await page.click(`#so-table tr[data-number="${NUMBER}"]`);
	await page.waitForSelector(shown("#so-detail") + " #so-d-number");
	assert.equal(await page.textContent("#so-d-number"), NUMBER);
}

/* The orders tab afresh (its home band and list reload on opening). */
async function reopenOrders(page) {
	await Promise.all([
		page.waitForResponse((r) => r.url().endsWith("/api/v1/orders/home")),
		page.click('.sh-tab[data-tab="orders"]'),
	]);
}

test("staff receive, print and reply to a work order; the supervisor signs it off", { timeout: 240000 },
	async (t) => {
		if (!ready(t)) {
			return;
		}
		const { dir, data } = workDir("he-e2e-orders-");
		await addUsers(data, [[BOSS, "supervisor"], [CLERK, "staff"]]);
		await cityEvent(dir, data, "dispatch", {
			type: "order.dispatch", item_id: "e2e-1", number: NUMBER, channel: "phone",
			category: "complaint", field: "social", title: "夜间施工噪音扰民",
			content: "幸福小区旁工地每晚十点后仍在施工，噪音很大，影响休息。",
			location: "幸福路88号", urgency: "normal", complexity: "complex",
			dispatch_ms: Date.now() - 60000,
			contact: { name: "陈小明", phone: "13900001111" },
		});

		await withKiosk({
			dir, data, log: "hotline-edge-orders.log",
			config: (port) => `[http]\nport = ${port}\n`,
			browser: { viewport: { width: 1280, height: 1024 } },
			problems: { name: "kiosk" },
		}, async ({ page, problems }) => {

			/* Staff see the orders first: the band leads with what is to do. */
			await login(page, CLERK);
			await page.waitForSelector(shown("#sh-orders"));
			assert.ok(await page.$eval('.sh-tab[data-tab="orders"]', (b) => b.classList.contains("is-open")));
			await page.waitForFunction(() => {
				const n = document.querySelector('#so-band [data-flag="pending"] .so-card-n');
				return n && n.textContent === "1";
			});
			assert.match(await page.textContent("#so-band"), /今日到期/);
			assert.match(await page.textContent("#so-band"), /已超期/);
			assert.match(await page.textContent("#so-band"), /被督办/);
			await page.waitForSelector(`#so-table tr[data-number="${NUMBER}"]`);
			/* The citizen's phone is masked in the list. */
			assert.doesNotMatch(await page.textContent("#so-table"), /13900001111/);
			await screenshot(page, "orders-home", { fullPage: true });

			/* Sign for it, then print the slip. */
			await openOrder(page);
			await stateIs(page, "待签收");
			assert.doesNotMatch(await page.textContent("#so-contact"), /13900001111/);
			assert.ok(await page.isHidden('#so-actions [data-act="sign_off"]'));
			await act(page, "sign", "sign");
			await stateIs(page, "已签收");
			const before = spoolJobs(data);
			const [printed] = await Promise.all([
				page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/print")),
				page.click('#so-actions [data-act="print"]'),
			]);
			assert.ok(printed.ok(), `print: ${printed.status()} ${await printed.text()}`);
			assert.equal((await printed.json()).printed, true);
			const jobs = newSpoolJobs(data, before);
			assert.equal(jobs.length, 1, `spool jobs after printing: ${jobs.join(", ")}`);
			assert.ok(fs.statSync(path.join(data, "spool", jobs[0])).size > 0, "an empty print job");
			await page.waitForSelector(shown("#so-act-msg"));
			assert.equal(await page.textContent("#so-act-msg"), "工单已打印。");

			/* Assign it to the first department, draft the reply. */
			await act(page, "assign", "assign", async () => {
				await page.waitForSelector("#so-lead option", { state: "attached" });
			});
			await stateIs(page, "办理中");
			await act(page, "draft_reply", "draft-reply", () =>
				page.fill("#so-reply", "已责成施工单位夜间停工，并加强巡查。"));
			await stateIs(page, "待审核");
			assert.match(await page.textContent("#so-detail"), /已责成施工单位夜间停工/);

			/* A photo of the paper reply is attached and shown. */
			await page.setInputFiles("#so-file", { name: "reply.png", mimeType: "image/png",
				buffer: Buffer.from(PNG_1PX, "base64") });
			const [uploaded] = await Promise.all([
				page.waitForResponse((r) => r.request().method() === "POST" &&
					/\/attachments\?name=reply\.png$/.test(r.url())),
				page.click("#so-upload"),
			]);
			assert.equal(uploaded.status(), 201, await uploaded.text());
			await page.waitForSelector("#so-attachments img.so-thumb");
			assert.match(await page.textContent("#so-attachments"), /reply\.png/);
			await screenshot(page, "orders-detail", { fullPage: true });

			/* An urging notice from the city: a red banner, for staff too. */
			await cityEvent(dir, data, "notice", {
				type: "order.notice", item_id: "e2e-2", number: NUMBER, kind: "urge",
				text: "请加快办理并及时答复。",
			});
			await reopenOrders(page);
			await page.waitForSelector(shown("#so-urgent"));
			assert.match(await page.textContent("#so-urgent"), new RegExp(NUMBER));
			assert.match(await page.textContent("#so-urgent"), /督办/);
			await screenshot(page, "orders-urged");
			await logout(page);

			/* The supervisor signs it off and acknowledges the notice. */
			await login(page, BOSS);
			await page.waitForSelector(shown("#sh-orders"));
			await page.waitForSelector(shown("#so-urgent"));
			await page.click(`#so-urgent .so-urgent-item`);
			await page.waitForSelector(shown("#so-detail") + " #so-d-number");
			await stateIs(page, "待审核");
			await act(page, "sign_off", "sign-off");
			await stateIs(page, "已答复");
			/* Offline: waiting to send, shown on the order and counted on the band. */
			await page.waitForSelector("#so-detail .so-chip-sync");
			assert.equal(await page.textContent("#so-detail .so-chip-sync"), "待发送");
			await page.waitForFunction(() => {
				const n = document.querySelector('#so-band [data-flag="sync_pending"] .so-card-n');
				return n && Number(n.textContent) >= 1;
			});
			assert.match(await page.textContent("#so-sync"), /等待发送/);
			await screenshot(page, "orders-replied", { fullPage: true });

			assert.ok(await page.isVisible("#so-urgent"));
			const [acked] = await Promise.all([
				page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/ack-notice")),
				page.click("#so-notices [data-ack]"),
			]);
			assert.ok(acked.ok(), `ack-notice: ${acked.status()} ${await acked.text()}`);
			await page.waitForSelector("#so-urgent", { state: "hidden" });
			assert.match(await page.textContent("#so-notices"), /已由 boss/);

			/* The figures, as bar charts. */
			await page.click('.sh-tab[data-tab="orders-dash"]');
			await page.waitForSelector("#sod-state rect.so-bar-count");
			await page.waitForSelector("#sod-category rect.so-bar-count");
			assert.equal(await page.textContent("#sod-total .so-card-n"), "1");
			assert.match(await page.textContent("#sod-state"), /已答复/);
			await screenshot(page, "orders-dashboard", { fullPage: true });

			/* English on the switch. */
			await page.click('.sh-tab[data-tab="orders"]');
			await page.click("#lang");
			assert.equal(await page.textContent('.sh-tab[data-tab="orders"]'), "Work orders");
			assert.match(await page.textContent("#so-band"), /Waiting to send/);
			await screenshot(page, "orders-home-en", { fullPage: true });
			await page.click("#lang");
			await logout(page);

			assert.deepEqual(problems, []);
		});
	});
