// 好差评 on every page that asks a citizen: the five national levels as large buttons, the
// reasons offered for the chosen level, an optional comment, and answers in plain Chinese.
// Used by the window's rating pad (/rate/{window}), the citizen's page (/t/{token}) and the
// kiosk. Talks only to POST /api/v1/ratings and POST /api/v1/complaints.
"use strict";

(function () {
  // Sizes follow --hq-scale (the pad and elder mode set it larger). Targets stay at least 64 px.
  const STYLE = `
  .hq-levels { display: grid; grid-template-columns: repeat(5, 1fr); gap: calc(.6rem * var(--hq-scale, 1)); }
  .hq-level { min-height: calc(6.5rem * var(--hq-scale, 1)); border: 3px solid #cfd6e0; border-radius: 1rem; background: #fff;
    display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .2rem; cursor: pointer;
    font: inherit; color: #1a1a1a; padding: .4rem .2rem; }
  .hq-level[aria-pressed="true"] { border-color: #1565c0; background: #e3f0ff; }
  .hq-level.hq-bad[aria-pressed="true"] { border-color: #c62828; background: #fdecea; }
  .hq-face { width: calc(2.8rem * var(--hq-scale, 1)); height: calc(2.8rem * var(--hq-scale, 1)); }
  .hq-label { font-size: calc(1.15rem * var(--hq-scale, 1)); font-weight: bold; white-space: nowrap; }
  .hq-en { font-size: calc(.7rem * var(--hq-scale, 1)); color: #5f6b7a; }
  .hq-hint { width: 100%; color: #3a4656; margin: .6rem 0 .2rem; font-size: calc(1rem * var(--hq-scale, 1)); }
  .hq-reasons { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; }
  .hq-reason { min-height: 64px; padding: 0 1.1rem; border-radius: 2rem; border: 2px solid #cfd6e0; background: #fff;
    font: inherit; font-size: calc(1.05rem * var(--hq-scale, 1)); cursor: pointer; color: #1a1a1a; }
  .hq-reason[aria-pressed="true"] { border-color: #1565c0; background: #1565c0; color: #fff; }
  .hq-comment, .hq-text, .hq-phone, .hq-category { width: 100%; box-sizing: border-box; font: inherit;
    font-size: calc(1.05rem * var(--hq-scale, 1)); padding: .7rem; border: 2px solid #9aa6b5; border-radius: .6rem;
    margin: .4rem 0; background: #fff; color: #1a1a1a; min-height: 64px; }
  .hq-submit { width: 100%; min-height: 72px; margin-top: .6rem; border: 0; border-radius: .9rem; background: #1565c0;
    color: #fff; font: inherit; font-size: calc(1.3rem * var(--hq-scale, 1)); font-weight: bold; cursor: pointer; }
  .hq-submit[disabled] { background: #c9d3e0; color: #1d2430; cursor: default; }
  .hq-status { min-height: 1.6em; margin-top: .5rem; font-size: calc(1.05rem * var(--hq-scale, 1)); color: #b71c1c; }
  /* Elder mode (any page whose body has .elder): text of 24 px and more, one level per row
     with its face beside the words, the English sublabels left out. */
  body.elder .hq-form { --hq-scale: 1.6; }
  body.elder .hq-levels { grid-template-columns: 1fr; }
  body.elder .hq-level { flex-direction: row; justify-content: flex-start; min-height: 76px; padding: .3rem 1rem; gap: 1rem; }
  body.elder .hq-face { width: 52px; height: 52px; }
  body.elder .hq-en { display: none; }
  `;
  const style = document.createElement("style");
  style.textContent = STYLE;
  document.head.append(style);

  // Faces drawn as SVG (emoji fonts are missing on many kiosk and pad systems): the mouth
  // curves from a broad smile to a frown, the colour from green to red.
  const FACES = {
    very_satisfied: { mouth: "M10 21 Q18 31 26 21", color: "#2e7d32" },
    satisfied: { mouth: "M11 22 Q18 28 25 22", color: "#558b2f" },
    basically_satisfied: { mouth: "M11 24 L25 24", color: "#f9a825" },
    dissatisfied: { mouth: "M11 26 Q18 20 25 26", color: "#ef6c00" },
    very_dissatisfied: { mouth: "M10 27 Q18 17 26 27", color: "#c62828" },
  };
  function face(level) {
    const ns = "http://www.w3.org/2000/svg";
    const shape = FACES[level] || FACES.basically_satisfied;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 36 36");
    svg.setAttribute("class", "hq-face");
    svg.setAttribute("aria-hidden", "true");
    const parts = [
      ["circle", { cx: 18, cy: 18, r: 16, fill: shape.color }],
      ["circle", { cx: 12, cy: 14, r: 2.2, fill: "#fff" }],
      ["circle", { cx: 24, cy: 14, r: 2.2, fill: "#fff" }],
      ["path", { d: shape.mouth, stroke: "#fff", "stroke-width": 2.6, fill: "none", "stroke-linecap": "round" }],
    ];
    for (const [tag, attrs] of parts) {
      const node = document.createElementNS(ns, tag);
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
      svg.append(node);
    }
    return svg;
  }
  const EN = {
    very_satisfied: "Very satisfied", satisfied: "Satisfied", basically_satisfied: "Basically satisfied",
    dissatisfied: "Dissatisfied", very_dissatisfied: "Very dissatisfied",
  };
  // What a citizen reads for each refusal comes from messages.js, by the error's code.
  function message(code) {
    return window.HallqMessages ? window.HallqMessages.text(code, "zh") : "暂时无法提交，请稍后再试。";
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value; else node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function post(path, body, token) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    } catch (e) {
      return { ok: false, code: "network", text: "网络中断，请稍后再试。" };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.ok) return { ok: true, data };
    const code = (data.error && data.error.code) || String(response.status);
    return { ok: false, code, text: message(code) };
  }

  // Mounts the rating form into `root`. options: { levels, ticket, token (device token or
  // null), onDone(result), onTouch(), followUp }.
  function mountRating(root, options) {
    root.innerHTML = "";
    root.classList.add("hq-rating", "hq-form");
    let chosen = null;
    const picked = new Set();
    const levels = el("div", { class: "hq-levels", role: "group", "aria-label": "评价等级" });
    const reasons = el("div", { class: "hq-reasons" });
    const comment = el("textarea", { class: "hq-comment", maxlength: "500", rows: "2",
      placeholder: "其他意见（可不填） Other comments (optional)", "aria-label": "其他意见" });
    const submit = el("button", { class: "hq-submit", type: "button", disabled: "" }, "提交评价 Submit");
    const status = el("div", { class: "hq-status", role: "status", "aria-live": "polite" });
    const touch = () => options.onTouch && options.onTouch();
    for (const level of options.levels) {
      const button = el("button", { class: "hq-level" + (level.bad ? " hq-bad" : ""), type: "button",
        "data-level": level.level, "aria-pressed": "false" });
      button.append(face(level.level),
        el("span", { class: "hq-label" }, level.label),
        el("span", { class: "hq-en" }, EN[level.level] || ""));
      button.addEventListener("click", () => {
        touch();
        chosen = level;
        picked.clear();
        for (const other of levels.children) other.setAttribute("aria-pressed", String(other === button));
        reasons.innerHTML = "";
        if (level.reasons.length) {
          reasons.append(el("div", { class: "hq-hint" }, level.bad ? "请告诉我们哪里没做好（可多选）" : "您满意的是（可多选）"));
        }
        for (const reason of level.reasons) {
          const chip = el("button", { class: "hq-reason", type: "button", "aria-pressed": "false" }, reason);
          chip.addEventListener("click", () => {
            touch();
            if (picked.has(reason)) picked.delete(reason); else picked.add(reason);
            chip.setAttribute("aria-pressed", String(picked.has(reason)));
          });
          reasons.append(chip);
        }
        submit.removeAttribute("disabled");
        status.textContent = "";
      });
      levels.append(button);
    }
    comment.addEventListener("input", touch);
    submit.addEventListener("click", async () => {
      if (!chosen) return;
      touch();
      submit.setAttribute("disabled", "");
      status.textContent = "正在提交… Sending";
      const body = { ticket: options.ticket, level: chosen.level, reasons: [...picked] };
      if (comment.value.trim()) body.comment = comment.value.trim();
      const result = await post("/api/v1/ratings", body, options.token);
      if (result.ok) {
        options.onDone && options.onDone(result.data, chosen);
      } else {
        status.textContent = result.text;
        status.dataset.code = result.code;
        if (result.code === "network") submit.removeAttribute("disabled");
        if (["already_rated", "rating_period_over", "follow_up_not_open", "not_rateable"].includes(result.code)) {
          options.onRefused && options.onRefused(result);
        } else {
          submit.removeAttribute("disabled");
        }
      }
    });
    root.append(levels, reasons, comment, submit, status);
  }

  // What the citizen reads once the rating is in.
  function thanks(result, level) {
    if (result.case) {
      return "感谢您的评价。您的意见已转交" + result.case.department + "，将在 " + result.case.callback_due +
        " 前回访核实，" + result.case.due + " 前整改反馈。";
    }
    return level && level.bad ? "感谢您的评价，我们会认真改进。" : "感谢您的评价！";
  }

  // Mounts the complaint form. options: { categories, ticket, token, onDone(result), onTouch() }.
  function mountComplaint(root, options) {
    root.innerHTML = "";
    root.classList.add("hq-complaint", "hq-form");
    const category = el("select", { class: "hq-category", "aria-label": "投诉类别" });
    category.append(el("option", { value: "" }, "请选择类别 Category"));
    for (const name of options.categories) category.append(el("option", { value: name }, name));
    const text = el("textarea", { class: "hq-text", maxlength: "500", rows: "4",
      placeholder: "请写下您遇到的问题 What happened", "aria-label": "投诉内容" });
    const phone = el("input", { class: "hq-phone", type: "tel", inputmode: "numeric", maxlength: "11",
      placeholder: "手机号（可不填，用于回复） Phone (optional)", "aria-label": "手机号" });
    const submit = el("button", { class: "hq-submit", type: "button" }, "提交投诉 Submit");
    const status = el("div", { class: "hq-status", role: "status", "aria-live": "polite" });
    for (const input of [category, text, phone]) input.addEventListener("input", () => options.onTouch && options.onTouch());
    submit.addEventListener("click", async () => {
      if (!category.value) { status.textContent = message("unknown_category"); return; }
      if (!text.value.trim()) { status.textContent = message("text_required"); return; }
      submit.setAttribute("disabled", "");
      const body = { category: category.value, text: text.value.trim() };
      if (phone.value.trim()) body.phone = phone.value.trim();
      if (options.ticket) body.ticket = options.ticket;
      const result = await post("/api/v1/complaints", body, options.token);
      submit.removeAttribute("disabled");
      if (result.ok) {
        options.onDone && options.onDone(result.data);
      } else {
        status.textContent = result.text;
        status.dataset.code = result.code;
      }
    });
    root.append(category, text, phone, submit, status);
  }

  function complaintThanks(result) {
    const c = result.case;
    return c ? "已受理，编号 " + c.id + "。" + c.department + "将在 " + c.callback_due + " 前回访。" : "已受理。";
  }

  window.HallqRating = { mountRating, mountComplaint, thanks, complaintThanks, message };
})();
