// What citizens and staff read when something did not work: Chinese first (English in English
// mode), chosen by the error's code — never the API's developer message. Every code the API can
// answer has a line here; a test (http/error.rs) fails when one is missing.
"use strict";

(function () {
  const TEXT = {
    already_rated: ["这次服务已经评价过了，感谢您的参与。", "This visit has already been rated."],
    appointment_code_in_use: ["预约码重复，请重试。", "That appointment code is in use; please try again."],
    appointment_only: ["该事项现在只接待预约群众，请用预约码签到。", "This service takes booked citizens only now: check in with your code."],
    booked_at_hub: ["网上和短信预约请通过市级平台办理。", "Online and SMS bookings are made on the city's booking page."],
    booking_limit_reached: ["该手机号当天的预约已达上限。", "This phone number has reached its bookings for that day."],
    code_suffix_required: ["请输入预约码的后四位。", "Enter the last four characters of the appointment code."],
    date_out_of_range: ["日期超出可查询范围。", "That date is out of range."],
    day_not_started: ["系统正在切换营业日，请稍后再试。", "The hall is starting a new day; try again in a moment."],
    engine_busy: ["系统繁忙，请稍后重试。", "The system is busy; please try again."],
    follow_up_not_open: ["整改完成后才能再次评价。", "A second rating opens once the problem has been put right."],
    forbidden: ["您没有此项操作的权限。", "You may not do this."],
    idempotency_key_reused: ["请求重复，请重新操作。", "That request was already used; please start again."],
    invalid_action: ["无法执行该操作。", "That action is not available."],
    invalid_case_state: ["工单状态已变化，请刷新后再处理。", "The case has moved on; refresh and try again."],
    invalid_channel: ["取号方式不正确。", "That channel is not valid."],
    invalid_code_suffix: ["预约码后四位不正确。", "The last four characters do not match."],
    invalid_credentials: ["工号或密码不正确。", "Wrong staff ID or PIN."],
    invalid_date: ["请按 年-月-日 填写日期。", "Give the date as YYYY-MM-DD."],
    invalid_format: ["格式不正确。", "That format is not valid."],
    invalid_idempotency_key: ["请求标识不正确，请重新操作。", "The request key is not valid; please start again."],
    invalid_json: ["提交的内容不完整，请重新填写。", "The form was not complete; please fill it in again."],
    invalid_kiosk: ["自助机设置有误，请联系工作人员。", "This kiosk is not set up correctly; please ask the staff."],
    invalid_last_event_id: ["屏幕需要刷新。", "The screen needs a refresh."],
    invalid_level: ["请重新选择评价。", "Please choose a rating again."],
    invalid_name: ["姓名格式不正确。", "That name is not valid."],
    invalid_phone: ["请填写11位手机号码。", "Enter an 11-digit mobile number."],
    invalid_priority: ["优先类别不正确。", "That priority is not valid."],
    invalid_query: ["查询条件不正确。", "The query is not valid."],
    invalid_start: ["请选择一个时段。", "Choose a time slot."],
    card_read_gone: ["请将身份证重新放在读卡区。", "Please lay your ID card on the reader again."],
    invalid_id_number: ["身份证号码应为18位，最后一位是数字或X，请核对。", "The ID number has 18 characters, the last a digit or X: please check it."],
    invalid_notice: ["通知最多 200 个字。", "A notice is at most 200 characters."],
    invalid_wait_alarm: ["报警时间请设在 1 到 480 分钟之间。", "Set the alarm between 1 and 480 minutes."],
    invalid_ticket_number: ["请输入号票上的号码，如 A012。", "Enter the number as printed on the ticket, e.g. A012."],
    invalid_state: ["该号当前状态不能这样处理。", "That ticket cannot be handled this way now."],
    kiosk_busy: ["取号太频繁，请稍等片刻。", "Too many tickets at once; please wait a moment."],
    marked_at_another_window: ["该号在其他窗口过号，请到该窗口恢复。", "That number was marked at another window; restore it there."],
    method_not_allowed: ["无法执行该操作。", "That is not possible here."],
    network: ["网络中断，请稍后再试。", "The network is down; please try again."],
    no_current_ticket: ["当前没有正在办理的号，请先叫号。", "No ticket is being served: call one first."],
    no_printer: ["本机没有连接打印机，请记下号码。", "This kiosk has no printer: please note your number."],
    not_a_session: ["请重新登录。", "Please sign in again."],
    not_bookable: ["该事项不能预约。", "That service cannot be booked."],
    not_found: ["没有找到，请核对后再试。", "Not found: please check and try again."],
    not_rateable: ["这个号还没有办结，办结后再评价。", "This ticket has not been served yet."],
    payload_too_large: ["内容太长了，请精简后再提交。", "That is too long."],
    person_limit_reached: ["您今天取该事项的号已达上限。", "You have taken as many tickets for this service today as allowed."],
    phone_check_too_soon: ["验证码刚发送过，请稍后再试。", "A code was just sent; please wait a moment."],
    phone_check_unavailable: ["暂时无法发送短信验证码。", "SMS codes cannot be sent now."],
    phone_code_expired: ["验证码已过期，请重新获取。", "The code has expired; ask for a new one."],
    phone_code_required: ["请填写短信验证码。", "Enter the code from the SMS."],
    phone_code_wrong: ["验证码不正确。", "That code is not right."],
    rating_period_over: ["已超过评价期限，如有意见请选择“投诉建议”。", "The time for rating is over; use Complaints instead."],
    requeue_limit_reached: ["该号已恢复过，不能再次恢复。", "That number has already been restored once."],
    requeue_too_late: ["过号时间太久，不能恢复，请重新取号。", "Too long since it was missed: please take a new number."],
    service_closed: ["该事项现在暂停取号。", "This service is closed now."],
    service_not_served: ["本窗口不办理该事项。", "This window does not serve that."],
    sign_in_busy: ["登录的人较多，请稍后再试。", "Many sign-ins at once; try again in a moment."],
    sign_in_locked: ["密码错误次数过多，请稍后再试或联系管理员。", "Too many wrong PINs: wait, or ask the manager."],
    slot_full: ["该时段已约满，请选择其他时段。", "That slot is full: choose another."],
    slot_in_past: ["该时段已经开始，请选择其他时段。", "That slot has started: choose another."],
    slot_not_offered: ["该时段不提供预约。", "That slot is not offered."],
    storage_full: ["系统存储已满，请联系信息管理员。", "Storage is full: please call IT."],
    storage_read_only: ["系统暂时无法保存，请联系信息管理员。", "The system cannot save now: please call IT."],
    storage_unavailable: ["系统暂时无法保存，请稍后再试。", "The system cannot save now; try again."],
    text_required: ["请写下您遇到的问题。", "Please describe the problem."],
    text_too_long: ["文字太长了，请控制在500字以内。", "That text is too long (500 characters at most)."],
    token_in_use: ["请重新操作。", "Please try again."],
    too_early: ["还没到签到时间，请稍后再来签到。", "Check-in has not opened yet."],
    too_far_ahead: ["只能预约近期的日期。", "That date is too far ahead."],
    too_late: ["已超过签到时间，请直接取号排队。", "Check-in has closed: please take a walk-in number."],
    too_many_streams: ["打开的屏幕过多，请关闭部分页面。", "Too many screens open; close some."],
    transfer_to_same_service: ["请选择其他事项转办。", "Choose another service to transfer to."],
    unauthorized: ["请先登录，或联系工作人员设置本机。", "Please sign in (or ask the staff to set this device up)."],
    unavailable: ["系统暂时不可用，请稍后再试。", "Not available now; try again soon."],
    unknown_appointment: ["没有找到该预约，请核对预约码。", "No appointment with that code: please check it."],
    unknown_case: ["没有找到该工单。", "No such case."],
    unknown_category: ["请选择投诉类别。", "Choose a category."],
    unknown_reason: ["请重新选择原因。", "Please choose the reasons again."],
    unknown_service: ["没有该事项。", "There is no such service."],
    unknown_ticket: ["没有找到这个号，请核对号票上的号码。", "No such ticket: check the number on it."],
    unknown_window: ["没有该窗口。", "There is no such window."],
    unsupported_media_type: ["提交的内容格式不正确。", "That format is not accepted."],
    window_not_paused: ["窗口没有暂停。", "The window is not paused."],
    window_paused: ["窗口已暂停，请先恢复服务。", "The window is paused: resume first."],
  };
  const FALLBACK = ["操作未成功，请稍后再试或咨询工作人员。", "That did not work; try again or ask the staff."];

  function text(code, lang) {
    const pair = TEXT[code] || FALLBACK;
    return lang === "en" ? pair[1] : pair[0];
  }

  // The error of a failed answer: its code and what to say, from the JSON error form.
  async function fromResponse(response, lang) {
    let code = String(response.status);
    try {
      const data = await response.json();
      if (data && data.error && data.error.code) code = data.error.code;
    } catch (e) { /* no body */ }
    const error = new Error(text(code, lang));
    error.code = code;
    return error;
  }

  window.HallqMessages = { text, fromResponse, codes: Object.keys(TEXT) };
})();
