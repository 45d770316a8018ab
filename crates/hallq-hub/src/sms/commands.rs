//! The SMS command grammar (docs/sms-booking.md), parsed without IO:
//!
//! ```text
//! YY <大厅号><业务代码> <日期> <上午|下午|HH:MM>    book  (预约 works as well as YY)
//! QX <预约码>                                      cancel (取消 works as well as QX)
//! anything else                                    a reply listing the grammar
//! ```
//!
//! e.g. `YY 1A 12-01 上午`, `预约 2C 明天 14:30`, `QX WK7Q2M9P`. Full-width letters, digits and
//! spaces (what a phone's Chinese keyboard types) are read as their half-width forms; case does
//! not matter; 日期 is `今天`, `明天`, `后天`, `12-01`, `12/1`, `12月1日`, `1201` or `2026-12-01`.

use hallq_core::jiff::civil::{Date, Time};

/// A day as the citizen wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Day {
    /// Days after today: 0 today, 1 tomorrow, 2 the day after.
    Relative(i64),
    /// A month and day: the next such date from today.
    MonthDay(i8, i8),
    Exact(Date),
}

/// Which slot of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// The first free slot starting before noon …
    Morning,
    /// … or at or after noon,
    Afternoon,
    /// or the slot starting at this time.
    At(Time),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Book {
        hall: u32,
        /// The service's ticket prefix (A, B …).
        service: String,
        day: Day,
        period: Period,
    },
    Cancel {
        code: String,
    },
    /// What went wrong, for the reply (with the grammar).
    Help(&'static str),
}

/// Full-width forms to half-width, upper case, one space between words.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn parse(text: &str) -> Command {
    if text.chars().count() > 160 {
        return Command::Help("短信太长");
    }
    let text = normalise(text);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    match words.first().copied() {
        Some("YY" | "预约") => book(&words[1..]),
        Some("QX" | "取消") => match words.get(1) {
            Some(code) if words.len() == 2 && hallq_protocol::is_hub_code(code) => {
                Command::Cancel {
                    code: (*code).to_owned(),
                }
            }
            _ => Command::Help("QX 后面请写预约码"),
        },
        _ => Command::Help("不是预约或取消指令"),
    }
}

fn book(words: &[&str]) -> Command {
    let [service, day, period] = words else {
        return Command::Help("YY 后面请依次写业务代码、日期、上午或下午");
    };
    let digits: String = service.chars().take_while(char::is_ascii_digit).collect();
    let prefix = &service[digits.len()..];
    let Ok(hall) = digits.parse::<u32>() else {
        return Command::Help("业务代码以大厅号开头");
    };
    if prefix.is_empty() || prefix.len() > 2 || !prefix.chars().all(|c| c.is_ascii_uppercase()) {
        return Command::Help("业务代码以事项字母结尾");
    }
    let Some(day) = parse_day(day) else {
        return Command::Help("日期请写今天、明天、后天或如 12-01");
    };
    let period = match *period {
        "上午" | "AM" => Period::Morning,
        "下午" | "PM" => Period::Afternoon,
        other => match parse_time(other) {
            Some(time) => Period::At(time),
            None => return Command::Help("时间请写上午、下午或如 09:30"),
        },
    };
    Command::Book {
        hall,
        service: prefix.to_owned(),
        day,
        period,
    }
}

fn parse_day(text: &str) -> Option<Day> {
    match text {
        "今天" => return Some(Day::Relative(0)),
        "明天" => return Some(Day::Relative(1)),
        "后天" => return Some(Day::Relative(2)),
        _ => {}
    }
    if let Ok(date) = text.parse::<Date>() {
        return Some(Day::Exact(date));
    }
    let cleaned = text.trim_end_matches('日').trim_end_matches('号');
    let (month, day) = if let Some((m, d)) = cleaned
        .split_once('-')
        .or_else(|| cleaned.split_once('/'))
        .or_else(|| cleaned.split_once('月'))
    {
        (m.parse::<i8>().ok()?, d.parse::<i8>().ok()?)
    } else if cleaned.len() == 4 && cleaned.chars().all(|c| c.is_ascii_digit()) {
        (cleaned[..2].parse().ok()?, cleaned[2..].parse().ok()?)
    } else {
        return None;
    };
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Day::MonthDay(month, day))
}

fn parse_time(text: &str) -> Option<Time> {
    let (hours, minutes) = text.split_once(':').or_else(|| text.split_once('点'))?;
    let minutes = minutes.trim_end_matches('分');
    let minutes = if minutes.is_empty() { "0" } else { minutes };
    Time::new(hours.parse().ok()?, minutes.parse().ok()?, 0, 0).ok()
}

/// The date a `Day` means, seen from `today`.
pub fn resolve(day: Day, today: Date) -> Option<Date> {
    match day {
        Day::Relative(days) => today
            .checked_add(hallq_core::jiff::Span::new().days(days))
            .ok(),
        Day::Exact(date) => Some(date),
        Day::MonthDay(month, day) => {
            let this_year = Date::new(today.year(), month, day).ok();
            match this_year {
                Some(date) if date >= today => Some(date),
                _ => Date::new(today.year() + 1, month, day).ok(),
            }
        }
    }
}

/// The reply to anything the grammar does not take.
pub fn help(problem: &str) -> String {
    format!(
        "【政务服务预约】没看懂这条短信（{problem}）。预约请发：YY 大厅号+业务代码 日期 上午/下午，\
         如 YY 1A 12-01 上午；取消请发：QX 预约码，如 QX WK7Q2M9P。业务代码见各大厅公告或 /book 页面。"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn bookings_in_the_ways_citizens_write_them() {
        let cases = [
            (
                "YY 1A 12-01 上午",
                1,
                "A",
                Day::MonthDay(12, 1),
                Period::Morning,
            ),
            (
                "yy 12c 明天 下午",
                12,
                "C",
                Day::Relative(1),
                Period::Afternoon,
            ),
            (
                "预约 2B 12月3日 14:30",
                2,
                "B",
                Day::MonthDay(12, 3),
                Period::At(Time::constant(14, 30, 0, 0)),
            ),
            (
                "ＹＹ　３Ａ　１２０１　上午",
                3,
                "A",
                Day::MonthDay(12, 1),
                Period::Morning,
            ),
            (
                "YY  1A   2026-12-01  9点",
                1,
                "A",
                Day::Exact(date("2026-12-01")),
                Period::At(Time::constant(9, 0, 0, 0)),
            ),
            (
                "YY 1AB 后天 PM",
                1,
                "AB",
                Day::Relative(2),
                Period::Afternoon,
            ),
        ];
        for (text, hall, service, day, period) in cases {
            assert_eq!(
                parse(text),
                Command::Book {
                    hall,
                    service: service.into(),
                    day,
                    period
                },
                "{text}"
            );
        }
    }

    #[test]
    fn cancellations_and_everything_else() {
        assert_eq!(
            parse("QX wk7q2m9p"),
            Command::Cancel {
                code: "WK7Q2M9P".into()
            }
        );
        assert_eq!(
            parse("取消 WK7Q2M9P"),
            Command::Cancel {
                code: "WK7Q2M9P".into()
            }
        );
        for text in [
            "",
            "你好",
            "QX",
            "QX 123",
            "YY",
            "YY 1A",
            "YY A 12-01 上午",
            "YY 1 12-01 上午",
            "YY 1A 13-01 上午",
            "YY 1A 12-01 晚上",
            "YY 1A 12-01 25:00",
            "YY 1A1 12-01 上午",
            &"Y".repeat(200),
        ] {
            assert!(matches!(parse(text), Command::Help(_)), "{text}");
        }
    }

    #[test]
    fn days_resolve_from_today() {
        let today = date("2026-11-28");
        assert_eq!(resolve(Day::Relative(1), today), Some(date("2026-11-29")));
        assert_eq!(
            resolve(Day::MonthDay(12, 1), today),
            Some(date("2026-12-01"))
        );
        // A month and day already past this year mean next year's.
        assert_eq!(
            resolve(Day::MonthDay(1, 5), today),
            Some(date("2027-01-05"))
        );
        assert_eq!(resolve(Day::MonthDay(2, 30), today), None);
        assert!(help("x").contains("YY 1A 12-01 上午"));
    }
}
