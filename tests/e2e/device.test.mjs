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
import net from "node:net";
import {
	addUsers, freePort, login, logout, ready, screenshot, shown, withKiosk, workDir,
} from "./harness.mjs";

const TECH = { id: "tech01", name: "赵技术", pin: "314159" };
const CLERK = { id: "li01", name: "李四", pin: "246810" };

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

test("technician's device page: boards and certificate", { timeout: 120000 }, async (t) => {
	if (!ready(t)) {
		return;
	}
	const { dir, data } = workDir("he-e2e-device-");

	await addUsers(data, [[TECH, "technician"], [CLERK, "staff"]]);

	const base = await freeBase();
	await withKiosk({
		dir, data, log: "hotline-edge-device.log",
		config: (port) => `[http]\nport = ${port}\n\n[display]\nmode = tcp\n` +
			`tcp_address = 127.0.0.1\ntcp_port_base = ${base}\n`,
	}, async ({ d, page, problems }) => {
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
		await screenshot(page, "device", { fullPage: true });

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
	});
});
