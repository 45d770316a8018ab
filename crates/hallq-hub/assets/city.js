// The city's dashboard: every hall's latest waits, windows, device alerts and sync lag, live
// from the hub's stream. The manager's session is kept for this tab only and sent as a header
// (the stream is read with fetch), never put in a URL.
"use strict";

const $ = (id) => document.getElementById(id);
const halls = new Map();
let open = null;
let token = sessionStorage.getItem("hallq-city-token");

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function minutes(seconds) {
  return seconds ? `${Math.round(seconds / 60)} 分` : "—";
}
function clock(text) {
  if (!text) return "—";
  const at = new Date(text);
  return at.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function render() {
  const rows = [];
  let waiting = 0, served = 0, openWindows = 0, alerts = 0;
  for (const hall of halls.values()) {
    waiting += hall.waiting; served += hall.served_today; openWindows += hall.open_windows;
    alerts += hall.alerts.length;
    const stale = !hall.snapshot_at || Date.now() - new Date(hall.snapshot_at) > 5 * 60 * 1000;
    const devices = hall.alerts.length
      ? element("span", { className: "bad", textContent: hall.alerts.map((a) => `${a.device} ${a.condition}`).join("，") })
      : element("span", { textContent: "正常" });
    const sync = element("span", {
      className: hall.lag_events > 1000 ? "bad" : hall.lag_events > 0 ? "warn" : "",
      textContent: hall.lag_events ? `待传 ${hall.lag_events}` : "同步",
    });
    const cell = (text, number) => element("td", { className: number ? "number" : "", textContent: text });
    const row = element("tr", { className: "hall" + (stale ? " stale" : "") }, [
      cell(hall.name), cell(hall.waiting, true), cell(minutes(hall.average_wait_s), true),
      cell(minutes(hall.p90_wait_s), true), cell(`${hall.open_windows}/${hall.windows}`, true),
      cell(hall.served_today, true), element("td", {}, [devices]), element("td", {}, [sync]),
      cell(clock(hall.snapshot_at)),
    ]);
    row.dataset.hall = hall.id;
    row.addEventListener("click", () => { open = open === hall.id ? null : hall.id; render(); });
    rows.push(row);
    if (open === hall.id) {
      for (const service of hall.services) {
        rows.push(element("tr", { className: "detail" }, [
          cell("　" + service.name), cell(service.waiting, true), cell(minutes(service.average_wait_s), true),
          cell(minutes(service.p90_wait_s), true), cell(service.open_windows, true), cell(service.served_today, true),
          cell(`预计 ${minutes(service.estimate_s)}`), cell(""), cell(""),
        ]));
      }
    }
  }
  $("halls").replaceChildren(...rows);
  $("sum-halls").textContent = halls.size;
  $("sum-waiting").textContent = waiting;
  $("sum-served").textContent = served;
  $("sum-open").textContent = openWindows;
  $("sum-alerts").textContent = alerts;
}

async function follow() {
  for (;;) {
    try {
      const response = await fetch("/v1/city/events", { headers: { Authorization: `Bearer ${token}` } });
      if (response.status === 401) return signOut();
      if (!response.ok || !response.body) throw new Error(String(response.status));
      $("connection").textContent = "实时连接中 Live";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (frame.includes("event: hall") && data) {
            const hall = JSON.parse(data);
            halls.set(hall.id, hall);
            render();
          }
        }
      }
    } catch (_) {
      // The stream was cut (the hub restarted, the network blinked): join again shortly.
    }
    $("connection").textContent = "连接中断，正在重连 Reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

function signedIn() {
  $("signin").hidden = true;
  $("live").hidden = false;
  $("report").hidden = false;
  $("sign-out").hidden = false;
  follow();
}

function signOut() {
  sessionStorage.removeItem("hallq-city-token");
  token = null;
  location.reload();
}

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/v1/sessions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ manager: $("manager").value.trim(), pin: $("pin").value }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const box = $("signin-error");
    box.textContent = response.status === 429 ? "错误次数过多，请稍后再试。" : "账号或密码不正确。";
    box.hidden = false;
    return;
  }
  token = body.token;
  sessionStorage.setItem("hallq-city-token", token);
  signedIn();
});

$("report").addEventListener("click", async () => {
  const response = await fetch("/v1/city/report.csv", { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) return;
  const link = Object.assign(document.createElement("a"), {
    href: URL.createObjectURL(await response.blob()),
    download: `hallq-city-${new Date().toISOString().slice(0, 10)}.csv`,
  });
  link.click();
});
$("sign-out").addEventListener("click", signOut);

if (token) signedIn();
