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
import fs from "node:fs";
import path from "node:path";
import {
	addUsers, collectProblems, login, logout, newSpoolJobs, ready, screenshot, shown, spoolJobs,
	withKiosk, workDir,
} from "./harness.mjs";

const BOSS = { id: "boss", name: "王主管", pin: "135790" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };
const WINDOW = 1;

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
		if (!ready(t)) {
			return;
		}
		const { dir, data } = workDir("he-e2e-queue-");

		await addUsers(data, [[BOSS, "supervisor"], [CLERK, "staff"]]);

		await withKiosk({
			dir, data, log: "hotline-edge-queue.log",
			config: (port) => `[http]\nport = ${port}\n\n[queue]\nrecall_max = 3\n`,
			browser: { viewport: { width: 1280, height: 1024 } },
			problems: { name: "kiosk" },
		}, async ({ d, ctx, page, problems }) => {

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
			const jobs = newSpoolJobs(data, before);
			assert.equal(jobs.length, 1, `spool jobs after issuing: ${jobs.join(", ")}`);
			assert.ok(fs.statSync(path.join(data, "spool", jobs[0])).size > 0, "an empty print job");
			await screenshot(page, "queue-ticket");
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
			await screenshot(page, "queue-window", { fullPage: true });

			/* The hall display shows the call, if that page is installed. */
			const hall = await fetch(d.url + "display");
			if (hall.ok) {
				const tv = await ctx.newPage();
				collectProblems(tv, { problems, name: "display", failed: false });
				await tv.goto(d.url + "display");
				await tv.waitForFunction((n) => document.body.textContent.includes(n),
					ticket.number, { timeout: 15000 });
				await screenshot(tv, "queue-display");
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
			await screenshot(page, "queue-stats");
			await logout(page);

			assert.deepEqual(problems, []);
		});
	});
