//! The two lists the city's notice asks every hall to publish, generated from the
//! configuration: 错时延时办理事项清单 (extended and staggered hours) and 预约办理事项清单
//! (bookable items), with the notice's columns.

use crate::config::HallConfig;
use hallq_core::{DayType, ItemType, Period, ServiceMode, ServiceSpec, TargetGroup};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Extended,
    Appointment,
}

impl ListKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "extended" => Some(ListKind::Extended),
            "appointment" => Some(ListKind::Appointment),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ListKind::Extended => "错时延时办理事项清单",
            ListKind::Appointment => "预约办理事项清单",
        }
    }
}

pub const COLUMNS: [&str; 9] = [
    "序号",
    "层级",
    "大厅名称",
    "窗口名称",
    "事项名称",
    "面向群体",
    "事项类型",
    "时间安排",
    "预约方式",
];

/// How citizens can book, per the notice: on site, by phone, by SMS and online.
const BOOKING_CHANNELS: &str = "现场预约、电话预约、短信预约、网上预约";

fn clock(time: hallq_core::jiff::civil::Time) -> String {
    if time == hallq_core::jiff::civil::Time::MAX {
        "24:00".into()
    } else {
        format!("{:02}:{:02}", time.hour(), time.minute())
    }
}

fn days(days: &[DayType]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for day in days {
        let name = match day {
            DayType::Workday | DayType::MakeupWorkday => "工作日",
            DayType::Weekend => "周末",
            DayType::Holiday => "法定节假日",
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join("、")
}

fn arrangement(periods: &[&Period]) -> String {
    periods
        .iter()
        .map(|p| {
            let suffix = match p.mode {
                ServiceMode::Duty => "（值班窗口）",
                ServiceMode::AppointmentOnly => "（预约办理）",
                _ => "",
            };
            format!(
                "{} {}-{}{suffix}",
                days(&p.days),
                clock(p.from),
                clock(p.to)
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// "工作日 09:00-12:00，分时段预约" from a service's slot plans.
fn plan_arrangement(plans: &[&hallq_core::AppointmentPlan]) -> String {
    plans
        .iter()
        .filter_map(|plan| {
            let first = plan.slots.iter().map(|s| s.0).min()?;
            let last = plan.slots.iter().map(|s| s.1).max()?;
            let online = if plan.hub_share > 0 {
                format!("，其中网上及短信预约{}人", plan.hub_share)
            } else {
                String::new()
            };
            Some(format!(
                "{} {}-{}（分时段预约，每时段{}人{online}）",
                days(&plan.days),
                clock(first),
                clock(last),
                plan.capacity
            ))
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn group(service: &ServiceSpec) -> &'static str {
    match service.target_group {
        TargetGroup::Enterprise => "企业",
        TargetGroup::Individual => "个人",
        TargetGroup::Both => "企业、个人",
    }
}

fn item_type(service: &ServiceSpec) -> &'static str {
    match service.item_type {
        ItemType::Immediate => "即办件",
        ItemType::Commitment => "承诺件",
    }
}

/// The rows of a list, numbered from 1.
pub fn rows(config: &HallConfig, kind: ListKind) -> Vec<[String; 9]> {
    let spec = &config.spec;
    let mut rows = Vec::new();
    for service in &spec.services {
        let periods: Vec<&Period> = spec
            .schedule
            .periods
            .iter()
            .filter(|p| p.serves(&service.id) && p.mode != ServiceMode::Closed)
            .filter(|p| match kind {
                ListKind::Extended => p.extended,
                ListKind::Appointment => p.mode == ServiceMode::AppointmentOnly,
            })
            .collect();
        let plans: Vec<&hallq_core::AppointmentPlan> = spec
            .appointment_plans
            .iter()
            .filter(|p| p.service == service.id)
            .collect();
        let listed = !periods.is_empty() || (kind == ListKind::Appointment && !plans.is_empty());
        if !listed {
            continue;
        }
        let bookable = !plans.is_empty()
            || spec
                .schedule
                .periods
                .iter()
                .any(|p| p.serves(&service.id) && p.mode == ServiceMode::AppointmentOnly);
        let mut windows: Vec<String> = Vec::new();
        for period in &periods {
            let named: Vec<String> = if period.windows.is_empty() {
                spec.windows
                    .iter()
                    .filter(|w| w.services.contains(&service.id))
                    .map(|w| w.name.clone())
                    .collect()
            } else {
                period
                    .windows
                    .iter()
                    .filter_map(|id| spec.windows.iter().find(|w| &w.id == id))
                    .map(|w| w.name.clone())
                    .collect()
            };
            for name in named {
                if !windows.contains(&name) {
                    windows.push(name);
                }
            }
        }
        rows.push([
            (rows.len() + 1).to_string(),
            spec.level.clone(),
            spec.name.clone(),
            windows.join("、"),
            service.name.clone(),
            group(service).into(),
            item_type(service).into(),
            if periods.is_empty() {
                plan_arrangement(&plans)
            } else {
                arrangement(&periods)
            },
            if bookable {
                BOOKING_CHANNELS.into()
            } else {
                "无需预约，现场取号".into()
            },
        ]);
    }
    rows
}

/// CSV with a UTF-8 byte order mark and CRLF line ends, as Excel on a government PC expects.
pub fn to_csv(rows: &[[String; 9]]) -> Vec<u8> {
    let mut csv = crate::csv::CsvWriter::new();
    csv.row(COLUMNS);
    for row in rows {
        csv.row(row);
    }
    csv.into_bytes()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A printable page, ready to publish on the hall's website or notice board.
pub fn to_html(config: &HallConfig, kind: ListKind, rows: &[[String; 9]]) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{hall}{title}</title>\n\
         <style>body{{font-family:\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",\"Microsoft YaHei\",sans-serif;margin:2rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #444;padding:.4rem .5rem;font-size:.95rem}}\
         th{{background:#eef2f7}}caption{{font-size:1.4rem;font-weight:bold;margin-bottom:1rem}}</style></head><body>\n\
         <table><caption>{hall}{title}</caption>\n<thead><tr>",
        hall = escape_html(&config.spec.name),
        title = kind.title()
    );
    for column in COLUMNS {
        html.push_str(&format!("<th>{column}</th>"));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for field in row {
            html.push_str(&format!("<td>{}</td>", escape_html(field)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n</body></html>\n");
    html
}

pub fn to_xlsx(
    config: &HallConfig,
    kind: ListKind,
    rows: &[[String; 9]],
) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| format!("cannot write the spreadsheet: {e}");
    sheet.set_name(kind.title()).map_err(fail)?;
    let bold = Format::new().set_bold();
    sheet
        .write_string_with_format(0, 0, format!("{}{}", config.spec.name, kind.title()), &bold)
        .map_err(fail)?;
    for (column, name) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(1, column as u16, *name, &bold)
            .map_err(fail)?;
    }
    for (index, row) in rows.iter().enumerate() {
        for (column, field) in row.iter().enumerate() {
            sheet
                .write_string(index as u32 + 2, column as u16, field)
                .map_err(fail)?;
        }
    }
    for (column, width) in [6.0, 10.0, 24.0, 30.0, 26.0, 12.0, 10.0, 48.0, 36.0]
        .iter()
        .enumerate()
    {
        sheet
            .set_column_width(column as u16, *width)
            .map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn city_hall() -> HallConfig {
        HallConfig::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../kiosk-config/jiangzhou-city-hall.toml"
        )))
        .unwrap()
    }

    #[test]
    fn the_lists_follow_the_configuration() {
        let config = city_hall();
        let extended = rows(&config, ListKind::Extended);
        // Every service in an extended period, once, numbered from 1.
        let names: Vec<&str> = extended.iter().map(|r| r[4].as_str()).collect();
        assert_eq!(
            names,
            [
                "发票领用与代开",
                "社保参保登记",
                "养老保险待遇申领",
                "医保业务办理",
                "不动产权证书领取与查询",
                "出入境证件办理",
                "机动车与驾驶证业务",
                "户籍业务",
                "住房公积金提取"
            ]
        );
        assert_eq!(
            extended.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            (1..=9).map(|n| n.to_string()).collect::<Vec<_>>()
        );
        let entry_exit = extended.iter().find(|r| r[4] == "出入境证件办理").unwrap();
        assert_eq!(
            entry_exit[1..4],
            [
                "市本级".to_owned(),
                "江州市政务服务中心".into(),
                "15号窗口 值班窗口".into()
            ]
        );
        assert_eq!(entry_exit[5..7], ["个人".to_owned(), "即办件".into()]);
        assert_eq!(entry_exit[7], "工作日 12:00-13:30（值班窗口）；周末 09:00-12:00（值班窗口）；法定节假日 09:00-12:00（值班窗口）");
        assert_eq!(entry_exit[8], "无需预约，现场取号");

        let appointment = rows(&config, ListKind::Appointment);
        let names: Vec<&str> = appointment.iter().map(|r| r[4].as_str()).collect();
        assert_eq!(
            names,
            [
                "养老保险待遇申领",
                "不动产转移登记",
                "户籍业务",
                "住房公积金贷款",
                "工程建设项目审批"
            ]
        );
        let transfer = appointment
            .iter()
            .find(|r| r[4] == "不动产转移登记")
            .unwrap();
        assert_eq!(transfer[6], "承诺件");
        assert_eq!(transfer[7], "工作日 08:30-17:30（预约办理）");
        assert_eq!(transfer[8], BOOKING_CHANNELS);
        // The demo hall, open around the clock, has no extended hours; its bookable services
        // are listed from their slot plans.
        let demo = HallConfig::parse(crate::config::DEMO_HALL_TOML, "demo").unwrap();
        assert!(rows(&demo, ListKind::Extended).is_empty());
        let bookable = rows(&demo, ListKind::Appointment);
        assert_eq!(
            bookable.iter().map(|r| r[4].as_str()).collect::<Vec<_>>(),
            ["不动产转移登记", "住房公积金贷款"]
        );
        assert_eq!(
            bookable[0][7],
            "工作日、周末、法定节假日 00:00-24:00（分时段预约，每时段6人，其中网上及短信预约2人）"
        );
    }

    #[test]
    fn formats() {
        let config = city_hall();
        let rows = rows(&config, ListKind::Appointment);
        let csv = String::from_utf8(to_csv(&rows)).unwrap();
        assert!(csv.starts_with(
            "\u{feff}序号,层级,大厅名称,窗口名称,事项名称,面向群体,事项类型,时间安排,预约方式\r\n"
        ));
        assert_eq!(csv.lines().count(), rows.len() + 1);
        let html = to_html(&config, ListKind::Appointment, &rows);
        assert!(html.contains("<caption>江州市政务服务中心预约办理事项清单</caption>"));
        assert_eq!(html.matches("<tr>").count(), rows.len() + 1);
        let xlsx = to_xlsx(&config, ListKind::Appointment, &rows).unwrap();
        assert_eq!(&xlsx[..2], b"PK", "an xlsx file is a zip archive");
    }
}
