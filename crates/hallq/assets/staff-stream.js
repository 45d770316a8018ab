"use strict";
// The hall's events as staff and managers see them. EventSource cannot send an Authorization
// header, and a token in the address would end up in logs and browser history, so this reads
// the stream with fetch, parses the Server-Sent Events itself and resumes with Last-Event-ID.
// onEvent(kind, data) for every event; onState("open" | "closed" | "unauthorized"). `path` is
// /api/v1/events unless given (a kiosk reads its own, /api/v1/kiosk/events, the same way).
function openStaffStream(token, onEvent, onState, path) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  const state = onState || (() => {});
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { "Authorization": "Bearer " + token, "Accept": "text/event-stream" };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const response = await fetch(path || "/api/v1/events", { headers, signal: controller.signal, cache: "no-store" });
        if (response.status === 401) { state("unauthorized"); return; }
        if (!response.ok || !response.body) throw new Error(String(response.status));
        state("open");
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id = null;
            let kind = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("event: ")) kind = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (id !== null) lastId = id;
            if (data) onEvent(kind, JSON.parse(data));
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      state("closed");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  run();
  const stop = () => { stopped = true; if (controller) controller.abort(); };
  // A page left for another (or put in the back-forward cache) lets go of its stream at once:
  // an open stream of a page nobody sees holds one of the browser's few connections to the
  // hall, and a kiosk browser reloaded a few times would run out of them. A page brought back
  // from the cache starts afresh.
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
  return { stop };
}
