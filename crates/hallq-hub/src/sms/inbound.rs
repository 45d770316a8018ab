//! An SMS a citizen sent, as the gateway posts it: parsed (`commands`), carried out from the
//! hub's share of the hall's slots, and answered by SMS in plain Chinese. The sender's number
//! is the phone of the booking (the operator vouches for it), so no code is asked for.

use super::commands::{self, Command, Period};
use crate::bookings::{self, BookingRequest};
use crate::http::error::HubError;
use crate::state::HubState;
use hallq_core::jiff::Timestamp;

/// Carries out a message from `from`; returns the reply (also sent through the gateway).
pub async fn handle(state: &HubState, from: &str, text: &str) -> Result<String, HubError> {
    let reply = match commands::parse(text) {
        Command::Help(problem) => commands::help(problem),
        Command::Cancel { code } => match bookings::cancel_by_citizen(state, &code, from).await {
            Ok(view) => format!(
                "【政务服务预约】已取消：{} {} {}，预约码 {}。",
                view.hall_name,
                view.service_name,
                view.start.get(..16).unwrap_or("").replace('T', " "),
                view.code
            ),
            Err(error) if error.status.is_client_error() => format!(
                "【政务服务预约】未能取消预约码 {code}：{}。",
                refusal(error.code)
            ),
            Err(error) => return Err(error),
        },
        Command::Book {
            hall,
            service,
            day,
            period,
        } => book(state, from, hall, &service, day, period).await?,
    };
    if let Some(gateway) = &state.sms {
        gateway.send(from, &reply, "sms_reply").await;
    }
    tracing::info!(
        phone = %hallq_privacy::mask_phone(from),
        reply = %reply.chars().take(12).collect::<String>(),
        "SMS command answered"
    );
    Ok(reply)
}

async fn book(
    state: &HubState,
    from: &str,
    number: u32,
    prefix: &str,
    day: commands::Day,
    period: Period,
) -> Result<String, HubError> {
    let client = state.pool.get().await?;
    let hall: Option<String> = client
        .query_opt(
            "SELECT id FROM halls WHERE sms_number = $1",
            &[&(number as i32)],
        )
        .await?
        .map(|row| row.get(0));
    drop(client);
    let Some(hall) = hall else {
        return Ok(commands::help("没有这个大厅号"));
    };
    let (profile, tz) = match bookings::profile(state, &hall).await {
        Ok(found) => found,
        Err(_) => return Ok(commands::help("该大厅暂未开通短信预约")),
    };
    let Some(service) = profile.services.iter().find(|s| s.prefix == prefix) else {
        return Ok(commands::help("该大厅没有这个业务代码"));
    };
    let now = Timestamp::now();
    let today = now.to_zoned(tz.clone()).date();
    let Some(date) = commands::resolve(day, today) else {
        return Ok(commands::help("没有这一天"));
    };
    let slots = bookings::share_of_slots(state, &hall, &profile, &tz, &service.id, date).await?;
    let wanted = |slot: &hallq_core::PlannedSlot| {
        let time = slot.start.to_zoned(tz.clone()).time();
        match period {
            Period::Morning => time.hour() < 12,
            Period::Afternoon => time.hour() >= 12,
            Period::At(at) => time == at,
        }
    };
    let offered: Vec<_> = slots
        .iter()
        .filter(|(slot, _)| wanted(slot) && slot.start > now && slot.hub_share > 0)
        .collect();
    let Some((slot, _)) = offered
        .iter()
        .find(|(slot, booked)| *booked < slot.hub_share)
    else {
        let when = format!("{} {}", date, period_text(period));
        return Ok(if offered.is_empty() {
            format!(
                "【政务服务预约】{} {} 在{when}没有可预约的时段。请换一天，或访问 /book 查看。",
                profile.name, service.name
            )
        } else {
            format!(
                "【政务服务预约】{} {} 在{when}的网上/短信预约名额已满。请换个时段或日期。",
                profile.name, service.name
            )
        });
    };
    let request = BookingRequest {
        service: service.id.clone(),
        start: slot.start.to_string(),
        channel: "sms".into(),
        phone: from.to_owned(),
        name: None,
        id_number: None,
    };
    match bookings::book(state, &hall, &request, now).await {
        Ok(view) => Ok(view.confirmation()),
        Err(error) if error.status.is_client_error() => Ok(format!(
            "【政务服务预约】未能预约：{}。",
            refusal(error.code)
        )),
        Err(error) => Err(error),
    }
}

fn period_text(period: Period) -> String {
    match period {
        Period::Morning => "上午".into(),
        Period::Afternoon => "下午".into(),
        Period::At(time) => time.strftime("%H:%M").to_string(),
    }
}

/// A refusal's code in words a citizen reads.
pub fn refusal(code: &str) -> &'static str {
    match code {
        "slot_full" => "该时段的网上/短信预约名额已满",
        "booking_limit_reached" => "同一手机号当天的预约已达上限",
        "too_far_ahead" => "超出可预约的天数",
        "slot_in_past" => "该时段已开始",
        "slot_not_offered" | "not_bookable_online" => "该时段不接受网上/短信预约",
        "not_found" => "没有找到这个手机号的这条预约",
        "invalid_state" => "这条预约已签到或已取消",
        "invalid_phone" => "手机号不正确",
        "hall_profile_missing" => "该大厅暂未开通网上预约",
        _ => "请稍后再试",
    }
}
