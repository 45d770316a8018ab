// The citizen's booking page: hall → service → day → slot → phone confirmed by an SMS code →
// the booking code. Everything shown comes from the hub's JSON API; nothing is fetched from
// elsewhere, and text from the server is always set as text, never as markup.
"use strict";

const TEXT = {
  zh: {
    title: "政务服务网上预约", elder: "长辈模式", book: "预约", cancel: "取消预约",
    choose_hall: "1 选择大厅", choose_service: "2 选择事项", choose_day: "3 选择日期",
    choose_slot: "4 选择时段", confirm_phone: "5 验证手机号", back: "返回",
    phone: "手机号", send_code: "获取验证码", code: "验证码", name: "姓名（选填）",
    id_number: "身份证号（选填，填写后到大厅刷身份证即可签到）",
    submit: "确认预约", done: "预约成功", your_code: "预约码（签到时使用）",
    sms_sent: "预约信息已通过短信发送到您的手机。", again: "再预约一个",
    cancel_title: "取消预约", code_label: "预约码", cancel_submit: "取消这条预约",
    left: (n) => `余 ${n}`, full: "已满", none: "不可预约", onsite_only: "仅限现场或电话预约",
    resend: (s) => `${s} 秒后可重发`, code_sent: "验证码已发送，请查看短信。",
    hall_label: "大厅", service_label: "事项", time_label: "时间", address_label: "地址",
    checkin_label: "签到时间", checkin: (a, b) => `${a} 至 ${b}，到大厅自助机输入预约码签到取号`,
    cancelled: (c) => `预约 ${c} 已取消。`, no_halls: "暂无可预约的大厅。", materials: "请携带：",
    weekdays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    day_types: { holiday: "节假日", weekend: "周末", makeup_workday: "调休上班", workday: "" },
    errors: {
      invalid_phone: "请输入11位手机号。", invalid_id_number: "身份证号码应为18位，最后一位是数字或X，请核对。", phone_code_wrong: "验证码不正确或已过期，请重新获取。",
      phone_check_too_soon: "验证码刚刚发送过，请一分钟后再试。", phone_check_unavailable: "暂时无法发送验证码，请到大厅现场预约。",
      slot_full: "该时段网上名额刚刚约满，请选择其他时段。", booking_limit_reached: "同一手机号当天预约已达上限。",
      slot_in_past: "该时段已开始，请选择其他时段。", too_far_ahead: "超出可预约的天数。",
      not_found: "没有找到这个手机号的这条预约。", invalid_state: "这条预约已签到或已取消，无法取消。",
      too_many_requests: "操作太频繁，请稍后再试。", sms_unavailable: "短信暂时发送不出去，请稍后再试。",
      network: "网络不通，请检查后重试。", other: "系统繁忙，请稍后再试。",
    },
  },
  en: {
    title: "Book a government service", elder: "Larger text", book: "Book", cancel: "Cancel a booking",
    choose_hall: "1 Choose a hall", choose_service: "2 Choose a service", choose_day: "3 Choose a day",
    choose_slot: "4 Choose a time", confirm_phone: "5 Confirm your phone", back: "Back",
    phone: "Mobile number", send_code: "Send code", code: "Code", name: "Name (optional)",
    id_number: "ID card number (optional: then your card checks you in at the hall)",
    submit: "Book", done: "Booked", your_code: "Booking code (for check-in)",
    sms_sent: "The booking was sent to your phone by SMS.", again: "Book another",
    cancel_title: "Cancel a booking", code_label: "Booking code", cancel_submit: "Cancel this booking",
    left: (n) => `${n} left`, full: "Full", none: "Not bookable", onsite_only: "On site or by phone only",
    resend: (s) => `Resend in ${s} s`, code_sent: "The code was sent; check your messages.",
    hall_label: "Hall", service_label: "Service", time_label: "Time", address_label: "Address",
    checkin_label: "Check-in", checkin: (a, b) => `${a} to ${b} at the hall's kiosk, with the booking code`,
    cancelled: (c) => `Booking ${c} is cancelled.`, no_halls: "No hall takes online bookings yet.", materials: "Bring: ",
    weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    day_types: { holiday: "holiday", weekend: "weekend", makeup_workday: "make-up workday", workday: "" },
    errors: {
      invalid_phone: "Enter an 11-digit mobile number.", invalid_id_number: "The ID number has 18 characters, the last a digit or X: please check it.", phone_code_wrong: "The code is wrong or expired; ask for a new one.",
      phone_check_too_soon: "A code was just sent; wait a minute.", phone_check_unavailable: "Codes cannot be sent now; book at the hall.",
      slot_full: "That time was just taken; choose another.", booking_limit_reached: "This number has reached today's bookings.",
      slot_in_past: "That time has begun; choose another.", too_far_ahead: "That day is too far ahead.",
      not_found: "No such booking for this number.", invalid_state: "This booking was checked in or cancelled already.",
      too_many_requests: "Too many tries; wait a moment.", sms_unavailable: "SMS cannot be sent now; try again soon.",
      network: "No connection; check and retry.", other: "Something went wrong; try again soon.",
    },
  },
};

let language = "zh";
const chosen = { hall: null, service: null, day: null, slot: null };
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[language][key];

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function show(step) {
  for (const section of document.querySelectorAll("main > section")) {
    section.hidden = section.id !== step;
  }
  $("to-book").classList.toggle("current", step !== "step-cancel");
  $("to-cancel").classList.toggle("current", step === "step-cancel");
  hideMessage();
  window.scrollTo(0, 0);
}

function say(text, ok = false) {
  const box = $("message");
  box.textContent = text;
  box.className = ok ? "message ok" : "message";
  box.hidden = false;
}
function hideMessage() { $("message").hidden = true; }

function explain(error) {
  const errors = t("errors");
  return errors[error] || errors.other;
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: options.body ? { "Content-Type": "application/json" } : {},
    });
  } catch (_) {
    throw new Error("network");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((body.error && body.error.code) || "other");
  return body;
}

function translate() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-t]")) {
    const value = TEXT[language][node.dataset.t];
    if (typeof value === "string") node.textContent = value;
  }
  document.title = t("title");
  $("language").textContent = language === "zh" ? "English" : "中文";
}

function localTime(text) { return text.slice(11, 16); }
function dayLabel(date, type, name) {
  const weekday = t("weekdays")[new Date(date + "T12:00:00Z").getUTCDay()];
  const kind = name || t("day_types")[type] || "";
  return `${date.slice(5)} ${weekday}${kind ? " · " + kind : ""}`;
}

async function loadHalls() {
  const { halls } = await call("/v1/public/halls");
  const list = $("halls");
  list.replaceChildren();
  if (!halls.length) list.append(element("p", { textContent: t("no_halls") }));
  for (const hall of halls) {
    const button = element("button", { type: "button", className: "choice" }, [
      element("b", { textContent: hall.name }),
      element("small", { textContent: hall.address || "" }),
    ]);
    button.dataset.hall = hall.id;
    button.addEventListener("click", () => chooseHall(hall));
    list.append(button);
  }
}

function chooseHall(hall) {
  chosen.hall = hall;
  $("picked-hall").textContent = hall.name;
  const box = $("services");
  box.replaceChildren();
  const departments = new Map();
  for (const service of hall.services) {
    if (!departments.has(service.department)) departments.set(service.department, []);
    departments.get(service.department).push(service);
  }
  for (const [department, services] of departments) {
    box.append(element("p", { className: "department", textContent: department }));
    for (const service of services) {
      const name = language === "en" && service.name_en ? service.name_en : service.name;
      const button = element("button", { type: "button", className: "choice", disabled: !service.online }, [
        element("b", { textContent: name }),
        element("small", { textContent: service.online ? (service.materials.length ? t("materials") + service.materials.join("、") : "") : t("onsite_only") }),
      ]);
      button.dataset.service = service.id;
      button.addEventListener("click", () => chooseService(service));
      box.append(button);
    }
  }
  show("step-service");
}

async function chooseService(service) {
  chosen.service = service;
  $("picked-service").textContent = `${chosen.hall.name} · ${service.name}`;
  $("materials").replaceChildren(...service.materials.map((m) => element("li", { textContent: m })));
  const { days } = await call(`/v1/halls/${encodeURIComponent(chosen.hall.id)}/days?service=${encodeURIComponent(service.id)}`);
  const box = $("days");
  box.replaceChildren();
  for (const day of days) {
    const open = day.slots > 0 && day.available > 0;
    const button = element("button", { type: "button", className: "choice", disabled: !open }, [
      element("span", { className: "left", textContent: day.slots === 0 ? t("none") : (day.available > 0 ? t("left")(day.available) : t("full")) }),
      element("b", { textContent: dayLabel(day.date, day.day_type, day.name) }),
    ]);
    button.dataset.date = day.date;
    button.addEventListener("click", () => chooseDay(day.date));
    box.append(button);
  }
  show("step-day");
}

async function chooseDay(date) {
  chosen.day = date;
  $("picked-day").textContent = `${chosen.service.name} · ${date}`;
  const { slots } = await call(`/v1/halls/${encodeURIComponent(chosen.hall.id)}/slots?service=${encodeURIComponent(chosen.service.id)}&date=${date}`);
  const box = $("slots");
  box.replaceChildren();
  for (const slot of slots.filter((s) => s.hub_capacity > 0)) {
    const button = element("button", { type: "button", className: "choice", disabled: slot.available === 0 }, [
      element("span", { className: "left", textContent: slot.available > 0 ? t("left")(slot.available) : t("full") }),
      element("b", { textContent: `${localTime(slot.start)}–${localTime(slot.end)}` }),
    ]);
    button.dataset.start = slot.start;
    button.addEventListener("click", () => chooseSlot(slot));
    box.append(button);
  }
  show("step-slot");
}

function chooseSlot(slot) {
  chosen.slot = slot;
  $("picked-slot").textContent = `${chosen.hall.name} · ${chosen.service.name} · ${chosen.day} ${localTime(slot.start)}–${localTime(slot.end)}`;
  show("step-phone");
}

let resendTimer = null;
$("send-code").addEventListener("click", async () => {
  const phone = $("phone").value.trim();
  if (!/^1[3-9][0-9]{9}$/.test(phone)) return say(explain("invalid_phone"));
  const button = $("send-code");
  button.disabled = true;
  try {
    await call("/v1/phone-checks", { method: "POST", body: JSON.stringify({ phone }) });
    say(t("code_sent"), true);
    let seconds = 60;
    clearInterval(resendTimer);
    resendTimer = setInterval(() => {
      seconds -= 1;
      button.textContent = seconds > 0 ? t("resend")(seconds) : t("send_code");
      if (seconds <= 0) { clearInterval(resendTimer); button.disabled = false; }
    }, 1000);
  } catch (error) {
    button.disabled = false;
    say(explain(error.message));
  }
});

$("phone-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = $("submit");
  if (submit.disabled) return;
  submit.disabled = true;
  try {
    const booking = await call("/v1/book", {
      method: "POST",
      body: JSON.stringify({
        hall: chosen.hall.id, service: chosen.service.id, start: chosen.slot.start,
        phone: $("phone").value.trim(), phone_code: $("code").value.trim(),
        name: $("name").value.trim() || null,
        id_number: $("id-number").value.trim() || null,
      }),
    });
    $("booking-code").textContent = booking.code;
    const row = (label, value) => [element("dt", { textContent: label }), element("dd", { textContent: value })];
    $("booking-details").replaceChildren(
      ...row(t("hall_label"), booking.hall_name),
      ...row(t("service_label"), booking.service_name),
      ...row(t("time_label"), `${booking.start.slice(0, 10)} ${localTime(booking.start)}–${localTime(booking.end)}`),
      ...row(t("address_label"), booking.address || "—"),
      ...row(t("checkin_label"), t("checkin")(localTime(booking.check_in_opens), localTime(booking.check_in_closes))),
    );
    $("phone-form").reset();
    show("step-done");
  } catch (error) {
    say(explain(error.message));
  } finally {
    submit.disabled = false;
  }
});

$("cancel-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("cancel-result");
  try {
    const code = $("cancel-code").value.trim().toUpperCase();
    await call("/v1/book/cancel", { method: "POST", body: JSON.stringify({ code, phone: $("cancel-phone").value.trim() }) });
    result.textContent = t("cancelled")(code);
    result.className = "result ok";
  } catch (error) {
    result.textContent = explain(error.message);
    result.className = "result message";
  }
});

for (const button of document.querySelectorAll("[data-back]")) {
  button.addEventListener("click", () => show(button.dataset.back));
}
$("again").addEventListener("click", () => show("step-hall"));
$("to-book").addEventListener("click", () => show("step-hall"));
$("to-cancel").addEventListener("click", () => show("step-cancel"));
$("elder").addEventListener("click", () => {
  document.body.classList.toggle("elder");
  localStorage.setItem("hallq-elder", document.body.classList.contains("elder") ? "1" : "");
});
$("language").addEventListener("click", () => {
  language = language === "zh" ? "en" : "zh";
  localStorage.setItem("hallq-language", language);
  translate();
  if (chosen.hall && !$("step-service").hidden) chooseHall(chosen.hall);
});

if (localStorage.getItem("hallq-elder")) document.body.classList.add("elder");
if (localStorage.getItem("hallq-language") === "en") language = "en";
translate();
loadHalls().catch((error) => say(explain(error.message)));
