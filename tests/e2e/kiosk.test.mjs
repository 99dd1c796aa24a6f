/*
 * Browser test of the kiosk shell: starts the real hotline-edge on the sim
 * board with a free port, opens the page in Debian's chromium through
 * playwright-core, checks that the Chinese text is drawn with a CJK font
 * (asked of the renderer itself over CDP), that English can be switched on,
 * that an entry opens its panel, that nothing was blocked by the CSP, and
 * saves screenshots under <build>/e2e/. Ctrl-C (SIGINT) must stop the
 * daemon with exit code 0.
 *
 * Run through tests/e2e/run BUILD_DIR, which sets HE_BUILD_DIR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
	collectProblems, launchBrowser, ready, screenshot, shutdown, startDaemon, workDir,
} from "./harness.mjs";

const OFFICE = "城关镇12345受理点";
const CJK_FONT = /CJK|Noto Sans SC|WenQuanYi|Droid Sans Fallback/;

/* The platform fonts the renderer used for the first node matching selector. */
async function fontsFor(cdp, selector) {
	const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
	const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
	assert.ok(nodeId, `no node for ${selector}`);
	const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
	return fonts.filter((f) => f.glyphCount > 0);
}

test("kiosk shell renders Chinese with a CJK font and switches to English", { timeout: 120000 },
	async (t) => {
		if (!ready(t)) {
			return;
		}
		const { dir, data } = workDir("he-e2e-");
		const d = await startDaemon({
			dir, data, log: "hotline-edge.log",
			config: (port) => `[device]\noffice_name = ${OFFICE}\n\n[http]\nport = ${port}\n`,
		});
		let ctx = null;
		try {
			assert.equal(d.health.office_name, OFFICE);

			ctx = await launchBrowser(dir);
			const page = ctx.pages()[0] || await ctx.newPage();
			const problems = collectProblems(page);

			const resp = await page.goto(d.url);
			assert.equal(resp.status(), 200);
			assert.match(resp.headers()["content-security-policy"], /default-src 'self'/);
			assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
			/* the status strip and the office name come from /api/v1/health */
			await page.waitForFunction((office) =>
				document.getElementById("office-name").textContent === office &&
				document.getElementById("st-uplink").textContent.startsWith("政务外网"), OFFICE);
			assert.equal(await page.textContent(".tile[data-func=ticket] .tile-title"), "取号");
			await page.evaluate(() => document.fonts.ready);

			const cdp = await ctx.newCDPSession(page);
			await cdp.send("DOM.enable");
			await cdp.send("CSS.enable");
			for (const sel of [".tile[data-func=ticket] .tile-title", ".welcome", "#office-name"]) {
				const fonts = await fontsFor(cdp, sel);
				assert.ok(fonts.length > 0, `${sel}: no font reported`);
				t.diagnostic(`${sel}: ${fonts.map((f) => `${f.familyName} (${f.glyphCount})`).join(", ")}`);
				for (const f of fonts) {
					assert.match(f.familyName, CJK_FONT,
						`${sel} drawn with ${f.familyName} (${f.glyphCount} glyphs), not a CJK font`);
				}
			}
			await screenshot(page, "kiosk-zh");

			/* English */
			await page.click("#lang");
			assert.equal(await page.getAttribute("html", "lang"), "en");
			assert.equal(await page.textContent(".tile[data-func=ticket] .tile-title"),
				"Take a ticket");
			assert.match(await page.textContent(".welcome"), /Welcome/);
			assert.match(await page.textContent("#st-uplink"), /^Extranet link: /);
			assert.equal(await page.textContent("#lang"), "中文");
			await screenshot(page, "kiosk-en");

			/* A tile opens its own screen in the language chosen, and goes back. */
			await page.click(".tile[data-func=request]");
			await page.waitForSelector("#requests:not([hidden])");
			assert.ok(await page.isHidden("#home"));
			assert.ok(await page.isHidden("#panel"));
			assert.match(await page.textContent("#r-title"), /[A-Za-z]/);
			await page.click("#lang");
			assert.match(await page.textContent("#r-title"), /[\u4e00-\u9fff]/);
			await screenshot(page, "kiosk-request");
			await page.click("#r-home");
			assert.ok(await page.isVisible("#home"));

			assert.deepEqual(problems, []);
		} finally {
			await shutdown(ctx, d);
		}
	});
