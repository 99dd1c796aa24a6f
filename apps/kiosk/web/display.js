/*
 * Hall display (/display): live from GET /api/v1/queue/stream (server-sent
 * events). "snapshot" events carry the whole picture (windows, the last
 * calls, waiting per service) and replace the screen; "queue" events
 * carry one change, and a call shows its announcement for a few seconds.
 * EventSource reconnects by itself; while it is down a banner says so.
 */
"use strict";

(function () {
	const ANNOUNCE_MS = 8000;
	const STATE_TEXT = {
		paused: ["暂停服务", "Paused"],
		closed: ["已关闭", "Closed"],
	};
	let fresh = {}; /* window number -> time of its last call */
	let announceTimer = null;

	function $(id) {
		return document.getElementById(id);
	}

	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls) {
			e.className = cls;
		}
		if (text !== undefined) {
			e.textContent = text;
		}
		return e;
	}

	function en(text) {
		const s = el("span", "", text);
		s.lang = "en";
		return s;
	}

	function pad(n) {
		return String(n).padStart(2, "0");
	}

	function tick() {
		const d = new Date();
		$("clock").textContent = pad(d.getHours()) + ":" + pad(d.getMinutes());
	}

	function renderWindows(wins) {
		const box = $("windows");
		const now = Date.now();
		box.replaceChildren();
		for (const w of wins) {
			const card = el("div", "hall-win");
			card.dataset.state = w.state;
			card.dataset.window = String(w.no);
			if (fresh[w.no] && now - fresh[w.no] < ANNOUNCE_MS) {
				card.classList.add("fresh");
			}
			const no = el("div", "hall-win-no", w.no + " 号窗口");
			/* The window's own name under its number; English when the name is
			 * only the number again ("1号窗口"). */
			const plain = !w.name_zh || w.name_zh.replace(/\s/g, "") === w.no + "号窗口";
			no.appendChild(el("span", "hall-win-name", plain ? w.name_en || "" : w.name_zh));
			const num = el("div", "hall-win-num");
			if (w.state === "open") {
				num.textContent = w.current || "—";
			} else {
				const t = STATE_TEXT[w.state] || [w.state, w.state];
				num.textContent = t[0];
				num.appendChild(en(t[1]));
			}
			card.append(no, num);
			box.appendChild(card);
		}
	}

	function renderCalls(calls) {
		const box = $("calls");
		box.replaceChildren();
		for (const c of calls.slice(0, 10)) {
			const li = el("li");
			li.append(el("span", "", c.number), el("span", "", c.window_no + " 号窗口"));
			box.appendChild(li);
		}
	}

	function renderServices(svcs) {
		const box = $("services");
		box.replaceChildren();
		for (const s of svcs) {
			const li = el("li");
			const name = el("span", "", s.prefix + " " + s.name_zh);
			name.appendChild(en(s.name_en));
			li.append(name, el("span", "hall-svc-count", s.waiting + " 人"));
			box.appendChild(li);
		}
	}

	function onSnapshot(e) {
		let s;
		try {
			s = JSON.parse(e.data);
		} catch (err) {
			return;
		}
		renderWindows(s.windows || []);
		renderCalls(s.last_calls || []);
		renderServices(s.services || []);
	}

	function onQueue(e) {
		let ev;
		try {
			ev = JSON.parse(e.data);
		} catch (err) {
			return;
		}
		if (!ev.announcement_zh) {
			return;
		}
		fresh[ev.window_no] = Date.now();
		$("announce-zh").textContent = ev.announcement_zh;
		$("announce-en").textContent = ev.announcement_en || "";
		$("announce").hidden = false;
		clearTimeout(announceTimer);
		announceTimer = setTimeout(function () {
			$("announce").hidden = true;
		}, ANNOUNCE_MS);
	}

	function connect() {
		const src = new EventSource("/api/v1/queue/stream");
		src.addEventListener("snapshot", onSnapshot);
		src.addEventListener("queue", onQueue);
		src.onopen = function () {
			$("conn").hidden = true;
		};
		src.onerror = function () {
			$("conn").hidden = false;
			/* A 503 (too many displays) closes it for good: try again later. */
			if (src.readyState === EventSource.CLOSED) {
				setTimeout(connect, 5000);
			}
		};
	}

	function loadOffice() {
		fetch("/api/v1/health")
			.then(function (r) {
				return r.json();
			})
			.then(function (h) {
				if (h.office_name) {
					$("office").textContent = h.office_name;
				}
			})
			.catch(function () {});
	}

	document.addEventListener("DOMContentLoaded", function () {
		tick();
		setInterval(tick, 1000);
		loadOffice();
		connect();
	});
})();
