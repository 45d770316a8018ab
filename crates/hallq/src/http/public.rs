//! What anyone in the hall may see, without credentials: the TV board's data, a citizen's own
//! ticket by its unguessable token, the calendar and the published lists. Numbers, services
//! and windows only — never phones, names or booking codes. (Alerts need a credential.)

use super::error::ApiError;
use crate::app::state::AppState;
use actix_web::web;
use actix_web::{HttpResponse, ResponseError};
use hallq_core::{Hall, Ticket};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// How many calls the board lists.
const BOARD_CALLS: usize = 10;

#[derive(Serialize, ToSchema)]
pub struct BoardCall {
    pub number: String,
    pub window: String,
    /// The window's short name ("3号窗口").
    pub window_name: String,
    pub service_name: String,
    pub called_at: Option<String>,
    pub status: String,
    pub recalls: u32,
}

#[derive(Serialize, ToSchema)]
pub struct BoardQueue {
    pub service: String,
    pub name: String,
    pub name_en: Option<String>,
    pub waiting: usize,
    pub wait_s_estimate: u64,
}

#[derive(Serialize, ToSchema)]
pub struct BoardView {
    /// The last event this view includes: skip stream events up to it.
    pub seq: u64,
    pub hall: String,
    /// The hall's time zone: boards show the hall's time, whatever the screen's own clock says.
    pub time_zone: String,
    pub notice: String,
    pub service_day: Option<String>,
    /// Newest first.
    pub calls: Vec<BoardCall>,
    pub queues: Vec<BoardQueue>,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenTicketView {
    pub hall: String,
    /// The hall's time zone, for showing times.
    pub time_zone: String,
    pub number: String,
    pub service_name: String,
    /// waiting, called, completed, no_show, cancelled or expired
    pub status: String,
    pub priority: String,
    pub ahead: Option<usize>,
    /// The promised wait (the forecast's median), seconds.
    pub wait_s_estimate: Option<u64>,
    /// The 80 % band in whole minutes ("约 15–25 分钟"); `[0, 0]`: any moment now.
    pub wait_minutes: Option<[u64; 2]>,
    pub window_name: Option<String>,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub recalls: u32,
    /// Once served: whether the visit may be rated (or followed up) now, and by whom it was
    /// served (staff number). `None` while the ticket is not completed or the hall no longer
    /// holds the visit.
    #[schema(value_type = Option<Object>)]
    pub rating: Option<CitizenRating>,
}

/// The rating part of a citizen's page.
#[derive(Serialize, ToSchema, Clone, PartialEq)]
pub struct CitizenRating {
    pub rated: bool,
    pub rating_open: bool,
    pub follow_up_open: bool,
    pub staff: Option<String>,
    pub rate_by: String,
}

fn window_name(hall_spec: &hallq_core::HallSpec, window: &hallq_core::WindowId) -> String {
    hall_spec
        .windows
        .iter()
        .find(|w| &w.id == window)
        .map(|w| w.call_name().to_owned())
        .unwrap_or_else(|| window.0.clone())
}

fn service_name(hall_spec: &hallq_core::HallSpec, ticket: &Ticket) -> String {
    hall_spec
        .services
        .iter()
        .find(|s| s.id == ticket.service)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| ticket.service.0.clone())
}

fn board_view(
    hall: &Hall,
    now: hallq_core::jiff::Timestamp,
    notice: &str,
    seq: u64,
    time_zone: &str,
) -> BoardView {
    let spec = hall.spec();
    BoardView {
        seq,
        time_zone: time_zone.to_owned(),
        hall: spec.name.clone(),
        notice: notice.to_owned(),
        service_day: hall.day().map(|d| d.to_string()),
        calls: hall
            .recent_calls(BOARD_CALLS)
            .into_iter()
            .map(|t| BoardCall {
                number: t.number.clone(),
                window: t.window.as_ref().map(|w| w.0.clone()).unwrap_or_default(),
                window_name: t
                    .window
                    .as_ref()
                    .map(|w| window_name(spec, w))
                    .unwrap_or_default(),
                service_name: service_name(spec, t),
                called_at: t.called_at.map(|at| at.to_string()),
                status: t.status.as_str().into(),
                recalls: t.recalls,
            })
            .collect(),
        queues: spec
            .services
            .iter()
            .zip(hall.queue_stats(now))
            .map(|(service, stats)| BoardQueue {
                service: service.id.0.clone(),
                name: service.name.clone(),
                name_en: service.name_en.clone(),
                waiting: stats.waiting,
                wait_s_estimate: stats.wait_s_estimate,
            })
            .collect(),
    }
}

/// The TV board's state: recent calls and waiting counts. Made once per committed state, from
/// the read model, however many boards ask.
#[utoipa::path(get, path = "/api/v1/board", tag = "calling", responses((status = 200, body = BoardView)))]
pub async fn board(state: web::Data<AppState>) -> HttpResponse {
    let seq = state.engine.committed_seq();
    let config = state.config();
    // An answer made from another configuration is stale even at the same log position: a
    // reload changes the notice without a commit, and a request that read the configuration
    // just before the reload may store its answer just after the reload emptied the cache.
    let cached = state.board_cache.lock().ok().and_then(|cache| {
        cache
            .as_ref()
            .filter(|cached| cached.seq == seq && Arc::ptr_eq(&cached.config, &config))
            .map(|cached| cached.body.clone())
    });
    let body = match cached {
        Some(body) => body,
        None => {
            let now = state.clock.now();
            let zone = &config.time_zone_name;
            let (seq, view) = state.engine.view(|hall| {
                let seq = state.engine.committed_seq();
                let notice = super::settings::notice_in_force(hall, &config).notice;
                (seq, board_view(hall, now, &notice, seq, zone))
            });
            let body = web::Bytes::from(serde_json::to_vec(&view).unwrap_or_default());
            if let Ok(mut cache) = state.board_cache.lock() {
                *cache = Some(crate::app::state::BoardCache {
                    seq,
                    config,
                    body: body.clone(),
                });
            }
            body
        }
    };
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// Tokens are 44 lowercase hex digits (32 for tickets of earlier versions); anything else is
/// not looked up at all.
pub fn is_token(token: &str) -> bool {
    matches!(token.len(), 32 | 44)
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn citizen_view(
    state: &AppState,
    ticket: &Ticket,
    position: Option<(usize, u64)>,
) -> CitizenTicketView {
    let spec = &state.config().spec;
    let forecast = position.and_then(|_| {
        state
            .forecasts
            .of(&state.engine, ticket.id, state.clock.now())
    });
    CitizenTicketView {
        hall: spec.name.clone(),
        time_zone: state.config().time_zone_name.clone(),
        number: ticket.number.clone(),
        service_name: service_name(spec, ticket),
        status: ticket.status.as_str().into(),
        priority: ticket.priority.as_str().into(),
        ahead: position.map(|(ahead, _)| ahead),
        wait_s_estimate: forecast
            .map(|f| f.point_s)
            .or(position.map(|(_, wait)| wait)),
        wait_minutes: forecast.map(|f| {
            let (low, high) = f.minutes();
            [low, high]
        }),
        window_name: ticket.window.as_ref().map(|w| window_name(spec, w)),
        issued_at: ticket.issued_at.to_string(),
        called_at: ticket.called_at.map(|at| at.to_string()),
        recalls: ticket.recalls,
        rating: citizen_rating(state, ticket.id),
    }
}

fn citizen_rating(state: &AppState, ticket: hallq_core::TicketId) -> Option<CitizenRating> {
    let now = state.clock.now();
    state.engine.view(|hall| {
        // On every push to a citizen's page: two flags, not the whole visit view.
        let visit = hall.visit(ticket)?;
        Some(CitizenRating {
            rated: visit.rating.is_some(),
            rating_open: crate::views::cases::rating_open(visit, now),
            follow_up_open: crate::views::cases::follow_up_open(hall, visit),
            staff: visit.staff.clone(),
            rate_by: visit.rate_by.to_string(),
        })
    })
}

/// A citizen's ticket as the read model has it now (today's and open tickets), with the ids
/// a stream needs to tell which events concern it.
pub fn citizen_ticket_live(
    state: &AppState,
    token: &str,
) -> Option<(
    CitizenTicketView,
    hallq_core::TicketId,
    hallq_core::ServiceId,
)> {
    let now = state.clock.now();
    let (ticket, position) = state.engine.view(|hall| {
        let ticket = hall.ticket_by_token(token)?.clone();
        let position = hall.position(ticket.id, now);
        Some((ticket, position))
    })?;
    Some((
        citizen_view(state, &ticket, position),
        ticket.id,
        ticket.service.clone(),
    ))
}

/// A citizen's ticket by its token, today's or from history, or `None`.
pub async fn citizen_ticket(
    state: &AppState,
    token: String,
) -> Result<Option<CitizenTicketView>, ApiError> {
    if !is_token(&token) {
        return Ok(None);
    }
    if let Some((view, _, _)) = citizen_ticket_live(state, &token) {
        return Ok(Some(view));
    }
    let stored = state
        .readers
        .with(move |store| store.ticket_by_token(&token))
        .await?;
    Ok(stored.map(|ticket| citizen_view(state, &ticket, None)))
}

/// A citizen's own ticket, by the token in its QR code.
#[utoipa::path(get, path = "/api/v1/t/{token}", tag = "calling",
    params(("token" = String, Path, description = "the token from the ticket's QR code")),
    responses((status = 200, body = CitizenTicketView), (status = 404, body = super::error::ErrorBody)))]
pub async fn ticket_by_token(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<CitizenTicketView>, ApiError> {
    citizen_ticket(&state, path.into_inner())
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("there is no ticket with this code"))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDayView {
    pub date: String,
    /// workday, makeup_workday, weekend or holiday
    pub day_type: String,
    /// The holiday (春节) for holidays and their make-up working days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// False when the year has no calendar data and the answer is a weekday/weekend guess.
    pub known: bool,
}

/// What kind of day a date is in this hall's calendar.
#[utoipa::path(get, path = "/api/v1/calendar/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = CalendarDayView), (status = 400, body = super::error::ErrorBody)))]
pub async fn calendar_day(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<CalendarDayView>, ApiError> {
    let date = super::parse_date(&path.into_inner())?;
    // The running hall's calendar: years fetched from the city's hub are there too.
    let day = state.engine.view(|hall| hall.spec().calendar.day(date));
    Ok(web::Json(CalendarDayView {
        date: day.date.to_string(),
        day_type: day.day_type.as_str().into(),
        name: day.name,
        known: day.known,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Alert {
    /// printer, display, calendar, upstream, backup, case_overdue, wait_alarm
    pub kind: String,
    pub subject: String,
    /// warning (act soon) or error (act now)
    pub severity: String,
    /// For the hall's people: Chinese first, then English; what is wrong and what to do.
    pub message: String,
    /// For IT staff: the device's or the system's own words (an address, an OS error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a printer's condition means for the people at the hall, and what to do.
fn printer_words(condition: &str) -> &'static str {
    match condition {
        "paper_near_end" => "纸卷快用完了，请准备更换。The paper roll is nearly used up.",
        "paper_out" => "打印机缺纸，请更换纸卷。The printer is out of paper: change the roll.",
        "cover_open" => "打印机盖未合上，请合好。The printer's cover is open: close it.",
        "offline" => "打印机脱机或报错，请检查打印机。The printer is offline or reports an error.",
        "unreachable" => {
            "无法连接打印机，请检查电源和线缆。The printer cannot be reached: check its power \
             and cable."
        }
        _ => "打印机状态异常，请检查。The printer reports a problem.",
    }
}

/// What needs a person's attention now: printers, displays, calendar data.
pub fn alerts(state: &AppState, today: hallq_core::jiff::civil::Date) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for printer in state.printing.views() {
        let severity = match printer.condition.as_str() {
            "ready" | "unknown" => continue,
            "paper_near_end" => "warning",
            _ => "error",
        };
        alerts.push(Alert {
            kind: "printer".into(),
            subject: printer.name.clone(),
            severity: severity.into(),
            message: printer_words(&printer.condition).into(),
            detail: printer.detail.clone(),
        });
    }
    for display in state.displays.views().into_iter().filter(|d| !d.connected) {
        alerts.push(Alert {
            kind: "display".into(),
            subject: display.id.clone(),
            severity: "error".into(),
            message:
                "叫号屏未连接，请检查电源和线缆。The call display is not connected: check its \
                      power and cable."
                    .into(),
            detail: display.detail,
        });
    }
    for reader in state.id_cards.views().into_iter().filter(|r| !r.connected) {
        alerts.push(Alert {
            kind: "id_reader".into(),
            subject: format!("{} ({})", reader.id, reader.kiosk),
            severity: "warning".into(),
            message:
                "身份证阅读器未连接，市民仍可直接选择事项取号，请检查阅读器的线缆。The ID card \
                      reader is not connected: citizens can still take numbers without it; check \
                      its cable."
                    .into(),
            detail: reader.detail,
        });
    }
    if let Some(upstream) = &state.config().upstream {
        let sync = super::hall::sync_view(state);
        if sync.lag_seconds >= upstream.lag_alert.as_secs() {
            alerts.push(Alert {
                kind: "upstream".into(),
                subject: format!("市级平台 City hub {}", upstream.url),
                severity: "warning".into(),
                message: format!(
                    "{} 条记录 {} 分钟未上报，大厅照常运行，连接恢复后自动补传。{} events have not \
                     reached the city's hub for {} minutes; the hall works on and sends them \
                     when the link is back.",
                    sync.lag_events,
                    sync.lag_seconds / 60,
                    sync.lag_events,
                    sync.lag_seconds / 60,
                ),
                detail: Some(
                    sync.last_error
                        .unwrap_or_else(|| "the hub is slow to take them".into()),
                ),
            });
        }
    }
    if let Some(error) = state
        .backups
        .lock()
        .ok()
        .and_then(|status| status.last_error.clone())
    {
        alerts.push(Alert {
            kind: "backup".into(),
            subject: "夜间备份 Nightly backup".into(),
            severity: "error".into(),
            message: "夜间备份失败，请检查备份目录的磁盘空间和权限。The nightly backup failed: \
                      check the backup folder's free space and permissions."
                .into(),
            detail: Some(error),
        });
    }
    let overdue: Vec<(u64, &'static str, String, String)> = state.engine.view(|hall| {
        hall.cases()
            .filter_map(|case| {
                let late = case.overdue(today)?;
                let due = match late {
                    hallq_core::feedback::Overdue::Callback => case.callback_due,
                    hallq_core::feedback::Overdue::Rectification => case.due,
                };
                Some((
                    case.id,
                    late.as_str(),
                    case.department.clone(),
                    due.to_string(),
                ))
            })
            .take(20)
            .collect()
    });
    for (id, late, department, due) in overdue {
        let (chinese, english) = match late {
            "callback" => ("回访", "callback"),
            _ => ("整改反馈", "rectification and feedback"),
        };
        alerts.push(Alert {
            kind: "case_overdue".into(),
            subject: format!("工单 Case {id}"),
            severity: "error".into(),
            detail: None,
            message: format!(
                "{department}：差评/投诉工单 {id} {chinese}已逾期（应于 {due} 前完成）。Case {id} \
                 ({department}) is overdue for {english}, due {due}."
            ),
        });
    }
    alerts.extend(wait_alarms(state));
    let next_year_due = today.month() == 12;
    let (fix_zh, fix) = if state.config().upstream.is_some() {
        (
            "市级平台发布后自动获取，或手动添加",
            "it is fetched from the city's hub when the hub has it; or add",
        )
    } else {
        ("请添加", "add")
    };
    for (year, due) in [(today.year(), true), (today.year() + 1, next_year_due)] {
        if due
            && !state
                .engine
                .view(|hall| hall.spec().calendar.has_year(year))
        {
            alerts.push(Alert {
                kind: "calendar".into(),
                subject: year.to_string(),
                severity: if year == today.year() {
                    "error"
                } else {
                    "warning"
                }
                .into(),
                detail: None,
                message: format!(
                    "缺少 {year} 年节假日安排：放假和调休上班日未知，{fix_zh} \
                     kiosk-config/calendar/{year}.json。No holiday calendar for {year}: holidays \
                     and make-up working days are unknown; {fix} kiosk-config/calendar/{year}.json"
                ),
            });
        }
    }
    alerts
}

/// Services whose longest wait has passed the manager's alarm.
fn wait_alarms(state: &AppState) -> Vec<Alert> {
    let now = state.clock.now();
    state.engine.view(|hall| wait_alarm_alerts(hall, now))
}

/// A warning for each service whose longest wait at `now` has passed its alarm; an error at
/// twice the alarm.
pub fn wait_alarm_alerts(hall: &Hall, now: hallq_core::jiff::Timestamp) -> Vec<Alert> {
    let alarms = hall.wait_alarms();
    if alarms.is_empty() {
        return Vec::new();
    }
    hall.queue_stats(now)
        .into_iter()
        .filter_map(|stats| {
            let limit = u64::from(*alarms.get(&stats.service)?);
            if stats.waiting == 0 || stats.oldest_wait_s < limit {
                return None;
            }
            let name = crate::views::service_name(hall.spec(), &stats.service);
            let (waited, alarm) = (stats.oldest_wait_s / 60, limit / 60);
            Some(Alert {
                kind: "wait_alarm".into(),
                subject: name.clone(),
                severity: if stats.oldest_wait_s >= 2 * limit {
                    "error"
                } else {
                    "warning"
                }
                .into(),
                message: format!(
                    "{name}：已有群众等候 {waited} 分钟，超过报警线 {alarm} 分钟（{} 人等候），\
                         请增开窗口或调配人员。Someone has waited {waited} min for {}, past the \
                         alarm at {alarm} min ({} waiting): open another window or move staff.",
                    stats.waiting, stats.service, stats.waiting
                ),
                detail: None,
            })
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct AlertsView {
    pub alerts: Vec<Alert>,
}

/// Current alerts for managers and consoles.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "hall", security(("bearer" = [])),
    responses((status = 200, body = AlertsView), (status = 401, body = super::error::ErrorBody)))]
pub async fn alerts_view(
    request: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<AlertsView>, ApiError> {
    super::caller(&request, &state)?;
    let today = state
        .clock
        .now()
        .to_zoned(state.config().time_zone.clone())
        .date();
    Ok(web::Json(AlertsView {
        alerts: alerts(&state, today),
    }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ListView {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A published list (extended or appointment) as JSON, CSV, HTML or xlsx.
#[utoipa::path(get, path = "/api/v1/lists/{kind}", tag = "calendar",
    params(("kind" = String, Path, description = "extended or appointment"),
        ("format" = Option<String>, Query, description = "json (default), csv, html or xlsx")),
    responses((status = 200, body = ListView), (status = 404, body = super::error::ErrorBody), (status = 400, body = super::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<actix_web::HttpResponse, ApiError> {
    use crate::lists::{rows, to_csv, to_html, to_xlsx, ListKind, COLUMNS};
    let kind = ListKind::parse(&path.into_inner()).ok_or_else(|| {
        ApiError::not_found("the lists are /api/v1/lists/extended and /api/v1/lists/appointment")
    })?;
    let rows = rows(&state.config(), kind);
    let file = |extension: &str| {
        format!(
            "attachment; filename=\"{}.{extension}\"",
            if kind == ListKind::Extended {
                "extended-hours"
            } else {
                "appointments"
            }
        )
    };
    Ok(
        match query.into_inner().format.as_deref().unwrap_or("json") {
            "json" => actix_web::HttpResponse::Ok().json(ListView {
                title: format!("{}{}", state.config().spec.name, kind.title()),
                columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
                rows: rows.iter().map(|r| r.to_vec()).collect(),
            }),
            "csv" => actix_web::HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(("Content-Disposition", file("csv")))
                .body(to_csv(&rows)),
            "html" => actix_web::HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(to_html(&state.config(), kind, &rows)),
            "xlsx" => actix_web::HttpResponse::Ok()
                .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .insert_header(("Content-Disposition", file("xlsx")))
                .body(to_xlsx(&state.config(), kind, &rows).map_err(ApiError::unavailable)?),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_format",
                    "format is json, csv, html or xlsx",
                ))
            }
        },
    )
}

/// A QR code as SVG: one square per dark module, a four-module quiet zone.
pub fn qr_svg(data: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let size = width + 8;
    let mut path = String::new();
    for (index, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            path.push_str(&format!(
                "M{},{}h1v1h-1z",
                index % width + 4,
                index / width + 4
            ));
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The QR code of a ticket's status page, for the kiosk's screen.
pub async fn ticket_qr(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> actix_web::HttpResponse {
    let token = path.into_inner();
    match citizen_ticket(&state, token.clone()).await {
        Ok(Some(_)) => {
            let url = format!("{}/t/{token}", state.config().ticket.public_base_url);
            match qr_svg(&url) {
                Some(svg) => actix_web::HttpResponse::Ok()
                    .content_type("image/svg+xml")
                    .body(svg),
                None => ApiError::unavailable("the QR code cannot be drawn").error_response(),
            }
        }
        Ok(None) => ApiError::not_found("there is no ticket with this code").error_response(),
        Err(error) => error.error_response(),
    }
}

#[cfg(test)]
mod tests {
    use hallq_core::fixtures::{friday_at, issue, shanghai, two_service_hall};
    use hallq_core::{Command, Hall, PriorityClass, ServiceId};

    #[test]
    fn a_wait_past_its_alarm_is_a_warning_and_twice_past_it_an_error() {
        let mut hall = Hall::new(two_service_hall(), shanghai());
        hall.advance_to(friday_at(0));
        hall.execute(&issue("a", PriorityClass::WalkIn, "t1"), friday_at(0))
            .unwrap();
        hall.execute(&issue("b", PriorityClass::WalkIn, "t2"), friday_at(0))
            .unwrap();
        // No alarm set: nothing to say however long the wait.
        assert!(super::wait_alarm_alerts(&hall, friday_at(7200)).is_empty());
        hall.execute(
            &Command::SetWaitAlarm {
                service: ServiceId::new("a"),
                max_wait_s: Some(600),
            },
            friday_at(1),
        )
        .unwrap();
        assert!(super::wait_alarm_alerts(&hall, friday_at(599)).is_empty());
        let at_alarm = super::wait_alarm_alerts(&hall, friday_at(600));
        assert_eq!(at_alarm.len(), 1, "b has no alarm");
        assert_eq!(
            (at_alarm[0].kind.as_str(), at_alarm[0].severity.as_str()),
            ("wait_alarm", "warning")
        );
        assert!(
            at_alarm[0]
                .message
                .starts_with("事项a：已有群众等候 10 分钟，超过报警线 10 分钟"),
            "{}",
            at_alarm[0].message
        );
        assert_eq!(
            super::wait_alarm_alerts(&hall, friday_at(1200))[0].severity,
            "error"
        );
        // Nobody waiting any more: no alarm, whatever the clock says.
        hall.execute(
            &Command::CallNext {
                window: hallq_core::WindowId::new("w1"),
                staff: None,
            },
            friday_at(1300),
        )
        .unwrap();
        assert!(super::wait_alarm_alerts(&hall, friday_at(1400)).is_empty());
    }

    #[test]
    fn qr_codes_are_svg() {
        let svg =
            super::qr_svg("http://127.0.0.1:8080/t/0123456789abcdef0123456789abcdef").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("M") && svg.ends_with("</svg>"));
    }
}
