/*
 * Browser test of the walk-in request screens against the real daemon (sim
 * board): a citizen picks a matter the hotline does not accept and is told
 * where to go, files a request (the sim printer writes the receipt to
 * DATA_DIR/spool/), sees only the masked phone, looks the request up by its
 * code; a staff member answers it on the spot in the 来访诉求 tab; the
 * citizen opens /#lookup=CODE and rates the answered request.
 * Screenshots go to <build>/e2e/requests-*.png. No request may fail and
 * nothing may reach the console.
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
	addUser, login, logout, newSpoolJobs, ready, screenshot, shown, spoolJobs, withKiosk, workDir,
} from "./harness.mjs";

const CLERK = { id: "li01", name: "李四", pin: "246810" };
const PHONE = "13812345678";
const NAME = "张三丰";

test("file a request, look it up, answer it, rate it", { timeout: 180000 }, async (t) => {
	if (!ready(t)) {
		return;
	}
	const { dir, data } = workDir("he-e2e-requests-");
	await addUser(data, CLERK, "staff");
	await withKiosk({
		dir, data, log: "hotline-edge-requests.log",
		config: (port) => `[http]\nport = ${port}\n`,
		browser: { viewport: { width: 1280, height: 1024 } },
		problems: { name: "kiosk" },
	}, async ({ d, page, problems }) => {

		/* A matter the hotline does not accept: where to go, no form. */
		await page.click(".tile[data-func=request]");
		await page.waitForSelector(shown("#requests") + ' .r-refusal[data-kind="litigation"]');
		assert.ok(await page.isHidden("#home"));
		assert.equal(await page.textContent("#r-title"), "我要办事");
		assert.equal(await page.locator(".r-refusal").count(), 9);
		assert.equal(await page.locator(".r-emergency").count(), 4);
		await page.click('.r-refusal[data-kind="arbitration"]');
		await page.waitForSelector("#r-refused");
		assert.match(await page.textContent("#r-refused h3"), /12345热线不能受理/);
		assert.match(await page.textContent("#r-where"), /劳动人事争议仲裁委员会/);
		assert.equal(await page.locator("#r-content").count(), 0);
		await screenshot(page, "requests-not-accepted");
		await page.click("#lang");
		assert.match(await page.textContent("#r-where"), /labour and personnel dispute arbitration/);
		await page.click("#lang");
		await page.click("#r-other");

		/* File a complaint: kind, details, confirmation (masked), receipt. */
		await page.click('.r-kind[data-kind="complaint"]');
		await page.waitForSelector("#r-content");
		await page.click("#r-next");
		assert.equal(await page.textContent("#r-form-msg"), "请选择诉求领域。");
		await page.click('.r-field[data-field="public_service"]');
		await page.fill("#r-content", "幸福小区东门的路灯坏了三天，晚上很黑，请尽快修理。");
		await page.fill("#r-location", "幸福小区东门");
		await page.fill("#r-name", NAME);
		await page.fill("#r-phone", PHONE);
		assert.ok(await page.isVisible(".r-consent"));
		await screenshot(page, "requests-form");
		await page.click("#r-next");
		await page.waitForSelector("#r-confirm");
		const confirm = await page.textContent("#r-confirm");
		assert.match(confirm, /138\*\*\*\*5678/);
		assert.match(confirm, /张\*\*/);
		assert.ok(!confirm.includes(PHONE) && !confirm.includes(NAME), confirm);
		const before = spoolJobs(data);
		const [filed] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith("/api/v1/requests") &&
				r.request().method() === "POST"),
			page.click("#r-submit"),
		]);
		assert.equal(filed.status(), 201, await filed.text());
		const answer = await filed.json();
		const code = answer.request.lookup_code;
		const number = answer.request.number;
		assert.match(code, /^[2-9A-HJKMNP-Z]{8}$/);
		assert.match(number, /^WR\d{8}-\d{4}$/);
		assert.equal(answer.printed, true);
		await page.waitForSelector("#r-done");
		assert.equal(await page.textContent("#r-code"), code);
		assert.equal(await page.textContent("#r-number"), number);
		assert.match(await page.textContent("#r-print-state"), /回执已打印/);
		const jobs = newSpoolJobs(data, before);
		assert.equal(jobs.length, 1, `spool jobs after filing: ${jobs.join(", ")}`);
		const receipt = fs.readFileSync(path.join(data, "spool", jobs[0]));
		assert.ok(receipt.includes(Buffer.from(code)), "the receipt holds the lookup code");
		assert.ok(receipt.includes(Buffer.from(number)), "the receipt holds the number");
		assert.ok(receipt.includes(Buffer.from("138****5678")), "the receipt masks the phone");
		assert.ok(!receipt.includes(Buffer.from(PHONE)), "the receipt holds the full phone");
		await screenshot(page, "requests-receipt");
		await page.click("#r-finish");
		await page.waitForSelector(shown("#home"));
		assert.ok(await page.isHidden("#requests"));

		/* Look it up by its code (typed in lower case). */
		await page.click(".tile[data-func=progress]");
		await page.waitForSelector("#r-code-input");
		await page.fill("#r-code-input", code.toLowerCase());
		await page.click("#r-search");
		await page.waitForSelector("#r-result");
		assert.equal(await page.textContent("#r-result-number"), number);
		assert.equal(await page.textContent("#r-result-state"), "受理中");
		assert.equal(await page.locator("#r-timeline li").count(), 1);
		const shownText = await page.textContent("#requests");
		assert.ok(!shownText.includes("5678") && !shownText.includes("张"), shownText);
		assert.ok(!shownText.includes("null") && !shownText.includes("undefined"), shownText);
		assert.equal(await page.locator("#r-rate-this").count(), 0);
		await screenshot(page, "requests-lookup");
		await page.click("#r-home");
		await page.waitForSelector(shown("#home"));

		/* Staff answer it on the spot. */
		await login(page, CLERK);
		await page.click('.sh-tab[data-tab="requests"]');
		await page.waitForSelector(`#rs-rows tr[data-number="${number}"]`);
		await page.click(`#rs-rows tr[data-number="${number}"]`);
		await page.waitForSelector("#rs-answer");
		assert.equal(await page.textContent("#rs-contact"), "张** 138****5678");
		await page.click("#rs-full");
		await page.waitForFunction((p) =>
			document.getElementById("rs-contact").textContent.includes(p), PHONE);
		await page.click("#rs-answer");
		await page.fill("#rs-answer-text", "已联系路灯管理所，今晚修复。");
		await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/api/v1/requests/${number}/answer`) &&
				r.ok()),
			page.click("#sd-confirm"),
		]);
		await page.waitForFunction((n) =>
			document.getElementById("rs-detail-number").textContent.includes("已当场答复"), number);
		const detail = await page.textContent("#rs-detail");
		assert.ok(!detail.includes("null") && !detail.includes("undefined"), detail);
		await screenshot(page, "requests-staff", { fullPage: true });
		await logout(page);

		/* The citizen scans the code (/#lookup=CODE) and rates the answer. */
		await page.goto(d.url + "#lookup=" + code);
		await page.waitForSelector("#r-result");
		assert.equal(await page.textContent("#r-result-state"), "已当场答复");
		await page.click("#r-rate-this");
		await page.waitForSelector(".r-grade");
		assert.deepEqual(await page.locator(".r-grade .r-btn-title").allTextContents(),
			["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
		await page.click("#r-rate-submit");
		assert.equal(await page.textContent("#r-rate-msg"), "请选择一项评价。");
		await page.click('.r-grade[data-grade="5"]');
		assert.equal(await page.locator("#r-rate-msg").count(), 0);
		assert.ok(!(await page.textContent("#requests")).includes("null"));
		await page.fill("#r-comment", "答复很及时");
		await screenshot(page, "requests-rate");
		const [rated] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith("/api/v1/ratings")),
			page.click("#r-rate-submit"),
		]);
		assert.equal(rated.status(), 201, await rated.text());
		await page.waitForSelector("#r-thanks");
		const after = await (await fetch(d.url + "api/v1/lookup/" + code)).json();
		assert.equal(after.rated, true);
		assert.equal(after.can_rate, false);

		assert.deepEqual(problems, []);
	});
});
