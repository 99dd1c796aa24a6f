/*
 * Browser test of the 工作日历 / Working days tab (calendar.js) against the
 * real daemon, whose empty database is seeded with the built-in 2025 and
 * 2026 calendars: a supervisor opens the tab, sees 2026-10-01 as a holiday
 * (国庆节) and Saturday 2026-10-10 as a working day (调休), sees the
 * warning for 2027 (no data), makes Thursday 2026-12-31 a holiday and finds
 * it still there after a reload, then imports a 2027 file through the
 * file chooser and the warning goes. A staff user sees the calendar without the
 * import form. Screenshots: <build>/e2e/calendar.png, calendar-2027.png.
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
	addUsers, login, logout, ready, screenshot, shown, withKiosk, workDir,
} from "./harness.mjs";

const BOSS = { id: "zhang01", name: "张主管", pin: "271828" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };

const day = (date) => `#cal-months .cal-day[data-date="${date}"]`;

/* Open the tab and show the year. */
async function openYear(page, year) {
	await page.click(".sh-tab[data-tab=calendar]");
	await page.waitForSelector(shown("#sh-calendar"));
	await page.waitForSelector("#cal-months .cal-day", { timeout: 15000 });
	await page.selectOption("#cal-year", String(year));
	await page.waitForSelector(day(`${year}-01-01`), { timeout: 15000 });
}

test("working-day calendar: view, set a day, persists", { timeout: 120000 }, async (t) => {
	if (!ready(t)) {
		return;
	}
	const { dir, data } = workDir("he-e2e-calendar-");
	await addUsers(data, [[BOSS, "supervisor"], [CLERK, "staff"]]);

	await withKiosk({
		dir, data, log: "hotline-edge-calendar.log",
		config: (port) => `[http]\nport = ${port}\n`,
	}, async ({ page, problems }) => {
		await page.waitForSelector("#staff-entry");

		/* Staff: read-only. */
		await login(page, CLERK);
		assert.equal(await page.textContent(".sh-tab[data-tab=calendar]"), "工作日历");
		await openYear(page, 2026);
		assert.equal(await page.getAttribute(day("2026-10-01"), "data-kind"), "holiday");
		assert.ok(await page.isHidden("#cal-import"));
		await logout(page);

		/* Supervisor: the shipped 2026 calendar. */
		await login(page, BOSS);
		await openYear(page, 2026);
		assert.equal(await page.getAttribute(day("2026-10-01"), "data-kind"), "holiday");
		assert.equal(await page.textContent(`${day("2026-10-01")} .cal-name`), "国庆节");
		assert.equal(await page.getAttribute(day("2026-10-10"), "data-kind"), "workday");
		assert.match(await page.textContent(`${day("2026-10-10")} .cal-name`), /调休/);
		assert.equal(await page.getAttribute(day("2026-10-09"), "data-kind"), "work");
		assert.equal(await page.getAttribute(day("2026-10-11"), "data-kind"), "rest");
		assert.ok(await page.isHidden("#cal-warning"));
		assert.ok(await page.isVisible("#cal-import"));
		assert.match(await page.textContent("#cal-counts"), /2026 年共 248 个工作日/);

		/* Set Thursday 2026-12-31 as a holiday. */
		await page.click(day("2026-12-31"));
		await page.waitForSelector(shown("#staff-dialog"));
		await page.check('#staff-dialog input[name=cal-kind][value=holiday]');
		await page.fill("#cal-day-name", "测试假日");
		await page.click("#sd-confirm");
		await page.waitForSelector("#staff-dialog", { state: "hidden" });
		await page.waitForSelector(`${day("2026-12-31")}[data-kind=holiday]`, { timeout: 15000 });
		await screenshot(page, "calendar", { fullPage: true });

		/* After a reload it is still there. */
		await page.reload();
		await page.waitForSelector("#staff-entry, #staff-home:not([hidden])");
		if (await page.isHidden("#staff-home")) {
			await login(page, BOSS);
		}
		await openYear(page, 2026);
		assert.equal(await page.getAttribute(day("2026-12-31"), "data-kind"), "holiday");
		assert.equal(await page.textContent(`${day("2026-12-31")} .cal-name`), "测试假日");

		/* A year without data: the warning, weekends only off. */
		await page.selectOption("#cal-year", "2027").catch(async () => {
			await page.click("#cal-next");
		});
		await page.waitForSelector(day("2027-01-01"), { timeout: 15000 });
		await page.waitForSelector(shown("#cal-warning"));
		assert.match(await page.textContent("#cal-warning"), /2027 年没有工作日历/);
		assert.equal(await page.getAttribute(day("2027-01-01"), "data-kind"), "work");
		await page.click("#lang");
		assert.match(await page.textContent("#cal-warning"),
			/no calendar for 2027: weekends only are treated as days off/);
		await screenshot(page, "calendar-2027", { fullPage: true });
		await page.click("#lang");

		/* Import 2027 from a file: the warning goes, the holiday shows. */
		const y2027 = JSON.stringify({ year: 2027, days: [
			{ date: "2027-01-01", kind: "holiday", name: "元旦" },
			{ date: "2027-01-02", kind: "workday", name: "测试调休" },
		] });
		await page.setInputFiles("#cal-file",
			{ name: "2027.json", mimeType: "application/json", buffer: Buffer.from(y2027) });
		await page.waitForSelector(shown("#staff-dialog"));
		assert.match(await page.textContent("#staff-dialog .sd-text"), /2027 年的日历/);
		await page.click("#sd-confirm");
		await page.waitForSelector(`${day("2027-01-01")}[data-kind=holiday]`, { timeout: 15000 });
		assert.ok(await page.isHidden("#cal-warning"));
		assert.equal(await page.getAttribute(day("2027-01-02"), "data-kind"), "workday");

		assert.deepEqual(problems, []);
	});
});
