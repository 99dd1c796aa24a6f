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
const OFFICE = "城关镇12345受理点";
const CJK_FONT = /CJK|Noto Sans SC|WenQuanYi|Droid Sans Fallback/;

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

/* Start the daemon; resolves once /api/v1/health answers. */
async function startDaemon(dir, port) {
	const cfg = path.join(dir, "hotline-edge.ini");
	fs.writeFileSync(cfg, `[device]\noffice_name = ${OFFICE}\n\n[http]\nport = ${port}\n`);
	const data = path.join(dir, "data");
	fs.mkdirSync(data);
	const log = fs.createWriteStream(path.join(OUT, "hotline-edge.log"));
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
				return { proc, exited, url, health: await r.json(), output: () => output };
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
		if (!fs.existsSync(CHROMIUM)) {
			t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
			return;
		}
		assert.ok(fs.existsSync(BIN), `${BIN} is missing: build the tree first`);
		fs.mkdirSync(OUT, { recursive: true });
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "he-e2e-"));
		const d = await startDaemon(dir, await freePort());
		let ctx = null;
		try {
			assert.equal(d.health.office_name, OFFICE);

			ctx = await chromium.launchPersistentContext(path.join(dir, "profile"), {
				executablePath: CHROMIUM,
				headless: true,
				args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
					"--no-first-run", "--disable-background-networking",
					"--disable-component-update", "--disable-sync"],
				viewport: { width: 1280, height: 800 },
				locale: "zh-CN",
			});
			const page = ctx.pages()[0] || await ctx.newPage();
			const problems = [];
			page.on("console", (m) => {
				if (m.type() === "error") {
					problems.push(`console: ${m.text()}`);
				}
			});
			page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
			page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`));
			page.on("response", (r) => {
				if (r.status() >= 400) {
					problems.push(`${r.status()}: ${r.url()}`);
				}
			});

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
			await page.screenshot({ path: path.join(OUT, "kiosk-zh.png") });

			/* English */
			await page.click("#lang");
			assert.equal(await page.getAttribute("html", "lang"), "en");
			assert.equal(await page.textContent(".tile[data-func=ticket] .tile-title"),
				"Take a ticket");
			assert.match(await page.textContent(".welcome"), /Welcome/);
			assert.match(await page.textContent("#st-uplink"), /^Extranet link: /);
			assert.equal(await page.textContent("#lang"), "中文");
			await page.screenshot({ path: path.join(OUT, "kiosk-en.png") });

			/* An entry says honestly that it is not installed yet, and goes back. */
			await page.click(".tile[data-func=request]");
			assert.ok(await page.isVisible("#panel"));
			assert.ok(await page.isHidden("#home"));
			assert.equal(await page.textContent("#panel-title"), "File a request");
			assert.match(await page.textContent("#panel"), /not installed/);
			await page.click("#lang");
			assert.equal(await page.textContent("#panel-title"), "我要办事");
			assert.match(await page.textContent("#panel"), /尚未安装/);
			await page.screenshot({ path: path.join(OUT, "kiosk-panel.png") });
			await page.click("#back");
			assert.ok(await page.isVisible("#home"));

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
