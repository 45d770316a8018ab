//! The 好差评 record as a province's platform takes it: the data items of GB/T 39046-2020
//! table 9 (评价信息), keyed by their Chinese names. A hall builds one for every rating it
//! pushes (in the `service_rated` event's `record`); the hub serves them per day.
//!
//! - 办件编号: the hall's id, the service day and the ticket number (`3201-20261128-A001`): the
//!   visit a queue system knows. Halls whose window system issues its own 办件编号 map it there.
//! - 评价渠道: the national evaluation's channel codes — `4` 政务大厅平板电脑 (the window's rating
//!   pad), `5` 政务大厅其他终端 (the kiosk; also a system default, whose 文字评价 says so), `2`
//!   移动端 (the citizen's phone).
//! - 评价时间: hall time, `YYYY-MM-DD HH:MM:SS`.
//! - 评价次数: 1, or 2 for the follow-up after rectification (二次评价).
//! - 满意度代码: 1 非常满意 … 5 非常不满意, or reversed for provinces that number the other way
//!   ([`LevelNumbering`]).
//! - 文字评价: the citizen's comment, reasons first.
//! - 行政区划: the hall's six-digit administrative division code (GB/T 2260).

use hallq_core::jiff::tz::TimeZone;
use hallq_core::{Event, LevelNumbering, RatingChannel};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    #[serde(rename = "办件编号")]
    pub project_no: String,
    #[serde(rename = "评价渠道")]
    pub channel: String,
    #[serde(rename = "评价时间")]
    pub rated_at: String,
    #[serde(rename = "评价次数")]
    pub times: u8,
    #[serde(rename = "满意度代码")]
    pub satisfaction: String,
    #[serde(rename = "文字评价")]
    pub text: String,
    #[serde(rename = "行政区划")]
    pub region: String,
}

/// What a hall adds to its ratings to make the records.
#[derive(Clone, Debug)]
pub struct RecordContext {
    pub hall: String,
    pub region_code: String,
    pub numbering: LevelNumbering,
    pub time_zone: TimeZone,
}

/// The national channel code of where a rating came from.
pub fn channel_code(channel: RatingChannel) -> &'static str {
    match channel {
        RatingChannel::Pad => "4",
        RatingChannel::Kiosk | RatingChannel::SystemDefault => "5",
        RatingChannel::Citizen => "2",
    }
}

/// The record of a `service_rated` event; `None` for any other event.
pub fn evaluation_record(event: &Event, context: &RecordContext) -> Option<EvaluationRecord> {
    let Event::ServiceRated {
        number,
        day,
        round,
        rating,
        ..
    } = event
    else {
        return None;
    };
    let mut text = rating.reasons.join("；");
    if let Some(comment) = &rating.comment {
        if !text.is_empty() {
            text.push('；');
        }
        text.push_str(comment);
    }
    if rating.channel == RatingChannel::SystemDefault {
        text = "系统默认评价".into();
    }
    Some(EvaluationRecord {
        project_no: format!("{}-{}-{}", context.hall, day.strftime("%Y%m%d"), number),
        channel: channel_code(rating.channel).into(),
        rated_at: rating
            .at
            .to_zoned(context.time_zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        times: *round,
        satisfaction: rating.level.code_in(context.numbering).to_string(),
        text,
        region: context.region_code.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_core::jiff::civil::date;
    use hallq_core::{Rating, RatingLevel, ServiceId, TicketId, WindowId};

    fn rated(level: RatingLevel, channel: RatingChannel, round: u8) -> Event {
        Event::ServiceRated {
            ticket: TicketId(7),
            number: "A007".into(),
            service: ServiceId::new("social-insurance"),
            window: WindowId::new("w01"),
            staff: Some("1001".into()),
            department: "社保局".into(),
            day: date(2026, 11, 28),
            round,
            rating: Rating {
                level,
                reasons: vec!["服务态度差".into()],
                comment: Some("让我跑了两次".into()),
                channel,
                at: "2026-11-28T02:05:09Z".parse().unwrap(),
            },
        }
    }

    fn context(numbering: LevelNumbering) -> RecordContext {
        RecordContext {
            hall: "3201".into(),
            region_code: "320102".into(),
            numbering,
            time_zone: TimeZone::get("Asia/Shanghai").unwrap(),
        }
    }

    #[test]
    fn a_rating_becomes_a_table_9_record() {
        let record = evaluation_record(
            &rated(RatingLevel::Dissatisfied, RatingChannel::Pad, 1),
            &context(LevelNumbering::National),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            serde_json::json!({
                "办件编号": "3201-20261128-A007",
                "评价渠道": "4",
                "评价时间": "2026-11-28 10:05:09",
                "评价次数": 1,
                "满意度代码": "4",
                "文字评价": "服务态度差；让我跑了两次",
                "行政区划": "320102",
            })
        );
        assert!(evaluation_record(
            &Event::ServiceDayStarted {
                day: date(2026, 11, 28),
                at: "2026-11-28T00:00:00Z".parse().unwrap()
            },
            &context(LevelNumbering::National)
        )
        .is_none());
    }

    /// Test vectors of the reversed numbering, end to end through the record.
    #[test]
    fn reversed_provinces_get_reversed_codes() {
        let vectors = [
            (RatingLevel::VerySatisfied, "1", "5"),
            (RatingLevel::Satisfied, "2", "4"),
            (RatingLevel::BasicallySatisfied, "3", "3"),
            (RatingLevel::Dissatisfied, "4", "2"),
            (RatingLevel::VeryDissatisfied, "5", "1"),
        ];
        for (level, national, reversed) in vectors {
            let event = rated(level, RatingChannel::Citizen, 2);
            let n = evaluation_record(&event, &context(LevelNumbering::National)).unwrap();
            let r = evaluation_record(&event, &context(LevelNumbering::Reversed)).unwrap();
            assert_eq!(
                (n.satisfaction.as_str(), r.satisfaction.as_str()),
                (national, reversed)
            );
            assert_eq!((r.channel.as_str(), r.times), ("2", 2));
        }
        let default = evaluation_record(
            &rated(
                RatingLevel::BasicallySatisfied,
                RatingChannel::SystemDefault,
                1,
            ),
            &context(LevelNumbering::National),
        )
        .unwrap();
        assert_eq!(
            (default.channel.as_str(), default.text.as_str()),
            ("5", "系统默认评价")
        );
    }
}
