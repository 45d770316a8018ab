//! The hall configuration file (TOML): the hall, its services and windows, its devices and
//! staff. Checked completely before the daemon serves; every error names the file, the line
//! and the key, so the hall's IT person can fix it without reading code.

use crate::auth::{Role, SecretHash};
use hallq_core::jiff::tz::TimeZone;
use hallq_core::{HallSpec, Policy, ServiceSpec, WindowSpec};
use hallq_devices::{DeviceUrl, PaperWidth, QrMode};
use hallq_store::StoreOptions;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

/// The shipped calendar years, compiled in for the built-in demo hall.
pub const BUILT_IN_CALENDAR: &[(&str, &str)] = &[(
    "2026.json",
    include_str!("../../../kiosk-config/calendar/2026.json"),
)];

/// The demo hall, compiled in so that `cargo run --release` works from any directory.
pub const DEMO_HALL_TOML: &str = include_str!("../../../kiosk-config/demo-hall.toml");
pub const DEMO_HALL_PATH: &str = "kiosk-config/demo-hall.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    hall: HallSection,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    storage: StorageSection,
    services: Vec<ServiceSpec>,
    windows: Vec<WindowSpec>,
    #[serde(default)]
    ticket: TicketSection,
    #[serde(default)]
    printers: Vec<PrinterSection>,
    #[serde(default)]
    calendar: CalendarSection,
    #[serde(default)]
    schedule: Vec<PeriodSection>,
    #[serde(default)]
    appointments: AppointmentsSection,
    #[serde(default)]
    calling: CallingSection,
    #[serde(default)]
    displays: Vec<DisplaySection>,
    sms: Option<SmsSection>,
    #[serde(default)]
    devices: Vec<DeviceSection>,
    #[serde(default)]
    staff: Vec<StaffSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketSection {
    /// Where citizens' phones reach the hall's status pages (the QR code on the ticket).
    #[serde(default = "default_public_base_url")]
    public_base_url: String,
    #[serde(default)]
    footer: Vec<String>,
    qr_caption: Option<String>,
}

impl Default for TicketSection {
    fn default() -> Self {
        Self {
            public_base_url: default_public_base_url(),
            footer: Vec::new(),
            qr_caption: None,
        }
    }
}

fn default_public_base_url() -> String {
    "http://127.0.0.1:8080".into()
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CalendarSection {
    /// Folder of yearly files (2026.json …), relative to the configuration file.
    directory: String,
}

impl Default for CalendarSection {
    fn default() -> Self {
        Self {
            directory: "calendar".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AppointmentsSection {
    check_in_before_min: u32,
    check_in_after_min: u32,
    per_person_per_day: u32,
    book_ahead_days: u32,
    plans: Vec<PlanSection>,
}

impl Default for AppointmentsSection {
    fn default() -> Self {
        let rules = hallq_core::AppointmentRules::default();
        Self {
            check_in_before_min: rules.check_in_before_min,
            check_in_after_min: rules.check_in_after_min,
            per_person_per_day: rules.per_person_per_day,
            book_ahead_days: rules.book_ahead_days,
            plans: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanSection {
    service: String,
    days: Vec<String>,
    /// Explicit slots, "09:00-10:00" …
    #[serde(default)]
    slots: Vec<String>,
    /// Or hours ("09:00-12:00") cut into slots of `slot_minutes`.
    #[serde(default)]
    hours: Vec<String>,
    #[serde(default)]
    slot_minutes: Option<u32>,
    capacity: u32,
}

/// "09:00-10:00" → (09:00, 10:00).
fn clock_range(
    text: &str,
) -> Option<(hallq_core::jiff::civil::Time, hallq_core::jiff::civil::Time)> {
    let (from, to) = text.split_once('-')?;
    Some((clock(from.trim())?, clock(to.trim())?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodSection {
    name: String,
    days: Vec<String>,
    from: String,
    to: String,
    mode: String,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    windows: Vec<String>,
    #[serde(default)]
    extended: bool,
}

/// A year's file in the holiday-cn layout.
#[derive(Debug, Deserialize)]
struct CalendarFile {
    year: i16,
    days: Vec<CalendarFileDay>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarFileDay {
    name: String,
    date: String,
    is_off_day: bool,
}

/// Parses "08:30"; "24:00" is the end of the day.
fn clock(text: &str) -> Option<hallq_core::jiff::civil::Time> {
    if text == "24:00" {
        return Some(hallq_core::jiff::civil::Time::MAX);
    }
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    hallq_core::jiff::civil::Time::new(hours.parse().ok()?, minutes.parse().ok()?, 0, 0).ok()
}

/// Reads one year's calendar file into `calendar`, naming the entry at fault.
pub fn load_calendar_year(
    calendar: &mut hallq_core::Calendar,
    file: &str,
    text: &str,
) -> Result<i16, ConfigError> {
    let fail = |line: Option<usize>, key: String, message: String| ConfigError {
        file: file.to_owned(),
        line,
        key,
        message,
    };
    let parsed: CalendarFile = serde_json::from_str(text).map_err(|e| {
        fail(
            Some(e.line()),
            "(file)".into(),
            format!("not a calendar file: {e}"),
        )
    })?;
    let mut entries = Vec::with_capacity(parsed.days.len());
    let line_of_entry = |index: usize, date: &str| {
        text.lines()
            .position(|l| l.contains(date))
            .map(|l| l + 1)
            .or(Some(index + 1))
    };
    for (index, day) in parsed.days.iter().enumerate() {
        let date = day.date.parse().map_err(|_| {
            fail(
                line_of_entry(index, &day.date),
                format!("days[{index}].date"),
                format!("'{}' is not a date (YYYY-MM-DD)", day.date),
            )
        })?;
        entries.push(hallq_core::CalendarEntry {
            date,
            name: day.name.clone(),
            is_off_day: day.is_off_day,
        });
    }
    calendar
        .add_year(parsed.year, &entries)
        .map_err(|(index, message)| {
            fail(
                line_of_entry(index, &parsed.days[index].date),
                format!("days[{index}]"),
                message,
            )
        })?;
    Ok(parsed.year)
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CallingSection {
    call_template: String,
    idle_text: String,
    paused_text: String,
    board_notice: String,
}

impl Default for CallingSection {
    fn default() -> Self {
        Self {
            call_template: "请{number}号到{window}办理".into(),
            idle_text: "欢迎光临".into(),
            paused_text: "暂停服务".into(),
            board_notice: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DisplaySection {
    id: String,
    window: String,
    url: String,
    #[serde(default = "default_protocol")]
    protocol: String,
    #[serde(default = "default_address")]
    address: u8,
    #[serde(default)]
    register: u16,
}

fn default_protocol() -> String {
    "framed".into()
}

fn default_address() -> u8 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsSection {
    gateway_url: String,
    #[serde(default)]
    gateway_token: Option<String>,
    #[serde(default = "default_notify_ahead")]
    notify_ahead: usize,
    #[serde(default = "default_approaching_template")]
    approaching_template: String,
    #[serde(default = "default_called_template")]
    called_template: String,
}

fn default_notify_ahead() -> usize {
    3
}

fn default_approaching_template() -> String {
    "【{hall}】您的{number}号前面还有{ahead}人，请回到大厅留意叫号。".into()
}

fn default_called_template() -> String {
    "【{hall}】请{number}号到{window}办理。".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrinterSection {
    id: String,
    #[serde(default)]
    name: Option<String>,
    /// tcp://HOST:9100, serial:///dev/ttyUSB0?baud=9600, usb:///dev/usb/lp0, file:NAME
    url: String,
    #[serde(default = "default_paper")]
    paper: String,
    #[serde(default = "default_qr")]
    qr: String,
    #[serde(default = "default_status_interval_s")]
    status_interval_s: u64,
}

fn default_paper() -> String {
    "80mm".into()
}

fn default_qr() -> String {
    "native".into()
}

fn default_status_interval_s() -> u64 {
    10
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HallSection {
    name: String,
    level: String,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    /// This is the demo hall: its well-known credentials are expected, not a risk.
    #[serde(default)]
    demo: bool,
}

fn default_time_zone() -> String {
    "Asia/Shanghai".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageSection {
    max_size_mb: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Kiosk,
    Display,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceSection {
    id: String,
    kind: DeviceKind,
    name: String,
    /// `hallq hash-secret --token TOKEN` prints it.
    token_sha256: String,
    /// The printer a kiosk prints its tickets on.
    #[serde(default)]
    printer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffSection {
    id: String,
    name: String,
    role: Role,
    /// `hallq hash-secret --pin PIN` prints it.
    pin_argon2: String,
    /// Windows this person may sign in to; `"*"` for any. Managers and admins need none.
    #[serde(default)]
    windows: Vec<String>,
}

/// A kiosk or display allowed to call the API with its token.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    pub name: String,
    pub token: SecretHash,
    pub printer: Option<String>,
}

/// How tickets look and where their QR codes point.
#[derive(Clone, Debug)]
pub struct TicketSettings {
    pub public_base_url: String,
    pub footer: Vec<String>,
    pub qr_caption: Option<String>,
}

/// Texts for calling: displays, boards, SMS.
#[derive(Clone, Debug)]
pub struct CallingSettings {
    pub call_template: String,
    pub idle_text: String,
    pub paused_text: String,
    pub board_notice: String,
}

#[derive(Clone, Debug)]
pub struct DisplaySettings {
    pub id: String,
    pub window: hallq_core::WindowId,
    pub url: DeviceUrl,
    pub protocol: hallq_devices::display::Protocol,
    pub address: u8,
    pub register: u16,
}

#[derive(Clone, Debug)]
pub struct SmsSettings {
    pub gateway_url: String,
    pub gateway_token: Option<String>,
    pub notify_ahead: usize,
    pub approaching_template: String,
    pub called_template: String,
}

/// Fills a message template: `{number}`, `{window}`, `{service}`, `{hall}`, `{ahead}`.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

#[derive(Clone, Debug)]
pub struct PrinterSettings {
    pub id: String,
    pub name: String,
    /// As configured; `file:` paths are relative to the data directory.
    pub url: DeviceUrl,
    pub paper: PaperWidth,
    pub qr: QrMode,
    pub status_interval_s: u64,
}

#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub pin: SecretHash,
    /// `None`: any window.
    pub windows: Option<Vec<String>>,
}

/// A configuration that passed every check.
#[derive(Clone, Debug)]
pub struct HallConfig {
    pub source: String,
    pub spec: HallSpec,
    pub time_zone: TimeZone,
    pub time_zone_name: String,
    pub demo: bool,
    pub storage: StoreOptions,
    pub ticket: TicketSettings,
    pub printers: Vec<PrinterSettings>,
    pub calling: CallingSettings,
    pub displays: Vec<DisplaySettings>,
    pub sms: Option<SmsSettings>,
    pub devices: Vec<Device>,
    pub staff: Vec<StaffMember>,
}

/// What is wrong with a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.message),
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl HallConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: file.clone(),
                line: None,
                key: "(file)".into(),
                message: format!("cannot read the configuration: {e}"),
            }])
        })?;
        Self::parse_with_calendar(&text, &file, path.parent())
    }

    /// Parses a configuration; the calendar comes from the built-in years.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigErrors> {
        Self::parse_with_calendar(text, file, None)
    }

    /// Parses a configuration whose calendar folder is relative to `directory` (the built-in
    /// years when `None`).
    pub fn parse_with_calendar(
        text: &str,
        file: &str,
        directory: Option<&Path>,
    ) -> Result<Self, ConfigErrors> {
        let error_at = |key: String, message: String| ConfigError {
            file: file.to_owned(),
            line: locate(text, &key),
            key,
            message,
        };
        let raw: ConfigFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| line_of(text, span.start));
            ConfigErrors(vec![ConfigError {
                file: file.to_owned(),
                line,
                key: key_at(text, e.span().map(|s| s.start)),
                message: e.message().trim().to_owned(),
            }])
        })?;
        let mut errors = Vec::new();
        let mut calendar = hallq_core::Calendar::default();
        match directory {
            None => {
                for (name, text) in BUILT_IN_CALENDAR {
                    if let Err(error) = load_calendar_year(&mut calendar, name, text) {
                        errors.push(error);
                    }
                }
            }
            Some(directory) => {
                let folder = directory.join(&raw.calendar.directory);
                let mut files: Vec<_> = std::fs::read_dir(&folder)
                    .map(|entries| {
                        entries
                            .filter_map(Result::ok)
                            .map(|e| e.path())
                            .filter(|p| p.extension().is_some_and(|x| x == "json"))
                            .collect()
                    })
                    .unwrap_or_default();
                files.sort();
                for path in files {
                    let name = path.display().to_string();
                    match std::fs::read_to_string(&path) {
                        Ok(text) => {
                            if let Err(error) = load_calendar_year(&mut calendar, &name, &text) {
                                errors.push(error);
                            }
                        }
                        Err(e) => errors.push(ConfigError {
                            file: name,
                            line: None,
                            key: "(file)".into(),
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
            }
        }
        let mut periods = Vec::new();
        for (index, period) in raw.schedule.iter().enumerate() {
            let at = |key: &str| format!("schedule[{index}].{key}");
            let days: Vec<hallq_core::DayType> = period
                .days
                .iter()
                .filter_map(|d| hallq_core::DayType::parse(d))
                .collect();
            if days.len() != period.days.len() {
                errors.push(error_at(
                    at("days"),
                    "day types are workday, makeup_workday, weekend, holiday".into(),
                ));
            }
            let (from, to) = (clock(&period.from), clock(&period.to));
            if from.is_none() {
                errors.push(error_at(at("from"), "write the time as HH:MM".into()));
            }
            if to.is_none() {
                errors.push(error_at(
                    at("to"),
                    "write the time as HH:MM (24:00 for midnight)".into(),
                ));
            }
            let mode = hallq_core::ServiceMode::parse(&period.mode);
            if mode.is_none() {
                errors.push(error_at(
                    at("mode"),
                    "use regular, duty, appointment_only or closed".into(),
                ));
            }
            if let (Some(from), Some(to), Some(mode)) = (from, to, mode) {
                let everything =
                    period.services.is_empty() || period.services.iter().any(|s| s == "*");
                periods.push(hallq_core::Period {
                    name: period.name.clone(),
                    days,
                    from,
                    to,
                    mode,
                    services: (!everything).then(|| {
                        period
                            .services
                            .iter()
                            .map(|s| hallq_core::ServiceId::new(s.clone()))
                            .collect()
                    }),
                    windows: period
                        .windows
                        .iter()
                        .map(|w| hallq_core::WindowId::new(w.clone()))
                        .collect(),
                    extended: period.extended,
                });
            }
        }
        let mut plans = Vec::new();
        for (index, plan) in raw.appointments.plans.iter().enumerate() {
            let at = |key: &str| format!("appointments.plans[{index}].{key}");
            let days: Vec<hallq_core::DayType> = plan
                .days
                .iter()
                .filter_map(|d| hallq_core::DayType::parse(d))
                .collect();
            if days.len() != plan.days.len() {
                errors.push(error_at(
                    at("days"),
                    "day types are workday, makeup_workday, weekend, holiday".into(),
                ));
            }
            let mut slots = Vec::new();
            for slot in &plan.slots {
                match clock_range(slot) {
                    Some(range) => slots.push(range),
                    None => errors.push(error_at(
                        at("slots"),
                        format!("'{slot}' is not like \"09:00-10:00\""),
                    )),
                }
            }
            if !plan.hours.is_empty() {
                match plan.slot_minutes.filter(|m| (5..=240).contains(m)) {
                    None => errors.push(error_at(
                        at("slot_minutes"),
                        "give slot_minutes (5-240) with hours".into(),
                    )),
                    Some(minutes) => {
                        for hours in &plan.hours {
                            let Some((from, to)) = clock_range(hours) else {
                                errors.push(error_at(
                                    at("hours"),
                                    format!("'{hours}' is not like \"09:00-12:00\""),
                                ));
                                continue;
                            };
                            let mut start = from;
                            while let Ok(end) = start.checked_add(
                                hallq_core::jiff::SignedDuration::from_mins(i64::from(minutes)),
                            ) {
                                if end <= start
                                    || (end > to && to != hallq_core::jiff::civil::Time::MAX)
                                {
                                    break;
                                }
                                slots.push((start, end));
                                start = end;
                            }
                            // The last slot of a day running to midnight.
                            if to == hallq_core::jiff::civil::Time::MAX && start > from {
                                let minutes_left = 24 * 60
                                    - (i64::from(start.hour()) * 60 + i64::from(start.minute()));
                                if minutes_left == i64::from(minutes) {
                                    slots.push((start, to));
                                }
                            }
                        }
                    }
                }
            }
            plans.push(hallq_core::AppointmentPlan {
                service: hallq_core::ServiceId::new(plan.service.clone()),
                days,
                slots,
                capacity: plan.capacity,
            });
        }
        let spec = HallSpec {
            name: raw.hall.name.clone(),
            level: raw.hall.level.clone(),
            services: raw.services,
            windows: raw.windows,
            policy: raw.policy,
            schedule: hallq_core::Schedule { periods },
            calendar,
            appointment_plans: plans,
            appointment_rules: hallq_core::AppointmentRules {
                check_in_before_min: raw.appointments.check_in_before_min,
                check_in_after_min: raw.appointments.check_in_after_min,
                per_person_per_day: raw.appointments.per_person_per_day,
                book_ahead_days: raw.appointments.book_ahead_days,
            },
        };
        if let Err(problems) = spec.validate() {
            errors.extend(problems.into_iter().map(|p| error_at(p.path, p.message)));
        }
        let time_zone = match TimeZone::get(&raw.hall.time_zone) {
            Ok(zone) => Some(zone),
            Err(e) => {
                errors.push(error_at(
                    "hall.time_zone".into(),
                    format!("unknown time zone: {e}"),
                ));
                None
            }
        };
        let mut ids = HashSet::new();
        let base_url = raw
            .ticket
            .public_base_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://"))
            || base_url.len() < 10
        {
            errors.push(error_at(
                "ticket.public_base_url".into(),
                "must be the http:// or https:// address phones use to reach this hall".into(),
            ));
        }
        let mut printers = Vec::new();
        for (index, printer) in raw.printers.into_iter().enumerate() {
            let at = |key: &str| format!("printers[{index}].{key}");
            if !hallq_core::is_valid_id(&printer.id) || !ids.insert(printer.id.clone()) {
                errors.push(error_at(
                    at("id"),
                    format!(
                        "'{}' must be unique and use a-z, 0-9, '-' or '_'",
                        printer.id
                    ),
                ));
            }
            let url = printer
                .url
                .parse::<DeviceUrl>()
                .map_err(|e| errors.push(error_at(at("url"), e.to_string())))
                .ok();
            let paper = PaperWidth::parse(&printer.paper);
            if paper.is_none() {
                errors.push(error_at(at("paper"), "use \"58mm\" or \"80mm\"".into()));
            }
            let qr = QrMode::parse(&printer.qr);
            if qr.is_none() {
                errors.push(error_at(
                    at("qr"),
                    "use \"native\" (GS ( k) or \"raster\"".into(),
                ));
            }
            if !(1..=3600).contains(&printer.status_interval_s) {
                errors.push(error_at(
                    at("status_interval_s"),
                    "must be between 1 and 3600".into(),
                ));
            }
            if let (Some(url), Some(paper), Some(qr)) = (url, paper, qr) {
                printers.push(PrinterSettings {
                    name: printer.name.unwrap_or_else(|| printer.id.clone()),
                    id: printer.id,
                    url,
                    paper,
                    qr,
                    status_interval_s: printer.status_interval_s,
                });
            }
        }
        if !raw.calling.call_template.contains("{number}") {
            errors.push(error_at(
                "calling.call_template".into(),
                "must contain {number}".into(),
            ));
        }
        let window_ids: HashSet<&str> = spec.windows.iter().map(|w| w.id.as_str()).collect();
        let mut displays = Vec::new();
        let mut line_protocols: Vec<(String, hallq_devices::display::Protocol, u8, usize)> =
            Vec::new();
        for (index, display) in raw.displays.into_iter().enumerate() {
            let at = |key: &str| format!("displays[{index}].{key}");
            if !hallq_core::is_valid_id(&display.id) || !ids.insert(display.id.clone()) {
                errors.push(error_at(
                    at("id"),
                    format!(
                        "'{}' must be unique and use a-z, 0-9, '-' or '_'",
                        display.id
                    ),
                ));
            }
            if !window_ids.contains(display.window.as_str()) {
                errors.push(error_at(
                    at("window"),
                    format!("unknown window '{}'", display.window),
                ));
            }
            let protocol = hallq_devices::display::Protocol::parse(&display.protocol);
            if protocol.is_none() {
                errors.push(error_at(
                    at("protocol"),
                    "use plain, framed or modbus".into(),
                ));
            }
            if display.address == 0
                || (protocol == Some(hallq_devices::display::Protocol::Modbus)
                    && display.address > 247)
                || display.address == 255
            {
                errors.push(error_at(
                    at("address"),
                    "must be 1-254 (1-247 for modbus)".into(),
                ));
            }
            let url = display
                .url
                .parse::<DeviceUrl>()
                .map_err(|e| errors.push(error_at(at("url"), e.to_string())))
                .ok();
            if let (Some(url), Some(protocol)) = (url, protocol) {
                let key = url.to_string();
                for (_, other, address, other_index) in
                    line_protocols.iter().filter(|(k, ..)| *k == key)
                {
                    if *other != protocol {
                        errors.push(error_at(
                            at("protocol"),
                            format!("displays on one line share a protocol: displays[{other_index}] uses {}", other.as_str()),
                        ));
                    }
                    if *address == display.address {
                        errors.push(error_at(
                            at("address"),
                            format!("address {address} is already used on this line by displays[{other_index}]"),
                        ));
                    }
                }
                line_protocols.push((key, protocol, display.address, index));
                displays.push(DisplaySettings {
                    id: display.id,
                    window: hallq_core::WindowId::new(display.window),
                    url,
                    protocol,
                    address: display.address,
                    register: display.register,
                });
            }
        }
        let sms = match raw.sms {
            None => None,
            Some(sms) => {
                if !(sms.gateway_url.starts_with("http://")
                    || sms.gateway_url.starts_with("https://"))
                {
                    errors.push(error_at(
                        "sms.gateway_url".into(),
                        "must be an http:// or https:// address".into(),
                    ));
                }
                if !(1..=50).contains(&sms.notify_ahead) {
                    errors.push(error_at(
                        "sms.notify_ahead".into(),
                        "must be between 1 and 50".into(),
                    ));
                }
                for (key, template) in [
                    ("sms.approaching_template", &sms.approaching_template),
                    ("sms.called_template", &sms.called_template),
                ] {
                    if !template.contains("{number}") {
                        errors.push(error_at(key.into(), "must contain {number}".into()));
                    }
                }
                Some(SmsSettings {
                    gateway_url: sms.gateway_url,
                    gateway_token: sms.gateway_token,
                    notify_ahead: sms.notify_ahead,
                    approaching_template: sms.approaching_template,
                    called_template: sms.called_template,
                })
            }
        };
        let mut devices = Vec::new();
        for (index, device) in raw.devices.into_iter().enumerate() {
            if !hallq_core::is_valid_id(&device.id) || !ids.insert(device.id.clone()) {
                errors.push(error_at(
                    format!("devices[{index}].id"),
                    format!(
                        "'{}' must be unique and use a-z, 0-9, '-' or '_'",
                        device.id
                    ),
                ));
            }
            if let Some(printer) = &device.printer {
                if device.kind != DeviceKind::Kiosk {
                    errors.push(error_at(
                        format!("devices[{index}].printer"),
                        "only kiosks have printers".into(),
                    ));
                } else if !printers.iter().any(|p| &p.id == printer) {
                    errors.push(error_at(
                        format!("devices[{index}].printer"),
                        format!("unknown printer '{printer}'"),
                    ));
                }
            }
            match SecretHash::sha256_from_hex(&device.token_sha256) {
                Some(token) => devices.push(Device {
                    id: device.id,
                    kind: device.kind,
                    name: device.name,
                    token,
                    printer: device.printer,
                }),
                None => errors.push(error_at(
                    format!("devices[{index}].token_sha256"),
                    "must be 64 hex digits: run `hallq hash-secret --token TOKEN`".into(),
                )),
            }
        }
        let mut staff = Vec::new();
        for (index, member) in raw.staff.into_iter().enumerate() {
            if !hallq_core::is_valid_id(&member.id) || !ids.insert(member.id.clone()) {
                errors.push(error_at(
                    format!("staff[{index}].id"),
                    format!(
                        "'{}' must be unique and use a-z, 0-9, '-' or '_'",
                        member.id
                    ),
                ));
            }
            let any = member.windows.iter().any(|w| w == "*");
            for (position, window) in member.windows.iter().enumerate() {
                if window != "*" && !window_ids.contains(window.as_str()) {
                    errors.push(error_at(
                        format!("staff[{index}].windows[{position}]"),
                        format!("unknown window '{window}'"),
                    ));
                }
            }
            if member.role == Role::Staff && member.windows.is_empty() {
                errors.push(error_at(
                    format!("staff[{index}].windows"),
                    "window staff need at least one window (or \"*\")".into(),
                ));
            }
            match SecretHash::argon2_from_phc(&member.pin_argon2) {
                Some(pin) => staff.push(StaffMember {
                    id: member.id,
                    name: member.name,
                    role: member.role,
                    pin,
                    windows: (!any).then_some(member.windows),
                }),
                None => errors.push(error_at(
                    format!("staff[{index}].pin_argon2"),
                    "must be an argon2 hash: run `hallq hash-secret --pin PIN`".into(),
                )),
            }
        }
        if let Some(0) = raw.storage.max_size_mb {
            errors.push(error_at(
                "storage.max_size_mb".into(),
                "must be positive".into(),
            ));
        }
        match (errors.is_empty(), time_zone) {
            (true, Some(time_zone)) => Ok(HallConfig {
                source: file.to_owned(),
                spec,
                time_zone,
                time_zone_name: raw.hall.time_zone,
                demo: raw.hall.demo,
                storage: StoreOptions {
                    max_size_bytes: raw.storage.max_size_mb.map(|mb| mb * 1024 * 1024),
                },
                ticket: TicketSettings {
                    public_base_url: base_url,
                    footer: raw.ticket.footer,
                    qr_caption: raw.ticket.qr_caption,
                },
                printers,
                calling: CallingSettings {
                    call_template: raw.calling.call_template,
                    idle_text: raw.calling.idle_text,
                    paused_text: raw.calling.paused_text,
                    board_notice: raw.calling.board_notice,
                },
                displays,
                sms,
                devices,
                staff,
            }),
            _ => {
                errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
                Err(ConfigErrors(errors))
            }
        }
    }

    /// One paragraph for `check-config` and the start-up log.
    pub fn summary(&self) -> String {
        let immediate = self
            .spec
            .services
            .iter()
            .filter(|s| s.item_type == hallq_core::ItemType::Immediate)
            .count();
        format!(
            "{} ({}), time zone {}: {} services ({} immediate, {} commitment), {} windows, \
             {} printers, {} devices, {} staff, {}, calendar years {}{}",
            self.spec.name,
            self.spec.level,
            self.time_zone_name,
            self.spec.services.len(),
            immediate,
            self.spec.services.len() - immediate,
            self.spec.windows.len(),
            self.printers.len(),
            self.devices.len(),
            self.staff.len(),
            if self.spec.schedule.is_always_open() {
                "open around the clock".to_owned()
            } else {
                format!("{} schedule periods", self.spec.schedule.periods.len())
            },
            {
                let years: Vec<String> =
                    self.spec.calendar.years().map(|y| y.to_string()).collect();
                if years.is_empty() {
                    "none".to_owned()
                } else {
                    years.join(", ")
                }
            },
            if self.demo { "; demo hall" } else { "" }
        )
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The `key` of the line an offset falls on, for syntax errors.
fn key_at(text: &str, offset: Option<usize>) -> String {
    let Some(offset) = offset else {
        return "(file)".into();
    };
    let line = text[..offset.min(text.len())]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .to_owned()
        + text[offset.min(text.len())..]
            .split('\n')
            .next()
            .unwrap_or("");
    line.split('=')
        .next()
        .map(|k| k.trim().trim_matches(['[', ']']).to_owned())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "(file)".into())
}

/// Finds the line of a key path like `windows[2].services[1]` or `hall.time_zone` in a file
/// laid out the usual way (`[hall]`, `[[windows]]`, `key = value`).
pub fn locate(text: &str, path: &str) -> Option<usize> {
    let mut parts = path.split('.');
    let section = parts.next()?;
    let key = parts.next();
    let (name, index) = match section.split_once('[') {
        Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()?),
        None => (section, 0),
    };
    let key_name = key.map(|k| k.split('[').next().unwrap_or(k));
    let lines: Vec<&str> = text.lines().collect();
    let headers = [format!("[[{name}]]"), format!("[{name}]")];
    let mut seen = 0;
    let mut start = None;
    for (number, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if headers.iter().any(|h| trimmed == h) {
            if seen == index {
                start = Some(number);
                break;
            }
            seen += 1;
        }
    }
    let start = start?;
    let Some(key_name) = key_name else {
        return Some(start + 1);
    };
    for (offset, line) in lines[start + 1..].iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some((candidate, _)) = trimmed.split_once('=') {
            if candidate.trim() == key_name {
                return Some(start + offset + 2);
            }
        }
    }
    Some(start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_hall_is_valid() {
        let config = HallConfig::parse(DEMO_HALL_TOML, DEMO_HALL_PATH).unwrap();
        assert!(config.demo);
        assert!(config.spec.services.len() >= 12);
        assert!(config.spec.windows.len() >= 10);
        assert!(config.spec.windows.iter().any(|w| w.green_channel));
        assert!(config.spec.windows.iter().any(|w| w.duty));
        assert!(config.spec.windows.iter().any(|w| w.services.len() >= 6));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let broken = DEMO_HALL_TOML.replacen(
            "time_zone = \"Asia/Shanghai\"",
            "time_zone = \"Mars/Olympus\"",
            1,
        );
        let errors = HallConfig::parse(&broken, "hall.toml").unwrap_err();
        let error = &errors.0[0];
        assert_eq!(error.key, "hall.time_zone");
        let expected = DEMO_HALL_TOML
            .lines()
            .position(|l| l.starts_with("time_zone"))
            .unwrap()
            + 1;
        assert_eq!(error.line, Some(expected));
        assert!(error
            .to_string()
            .starts_with(&format!("hall.toml:{expected}: hall.time_zone:")));

        let syntax = DEMO_HALL_TOML.replacen("level = ", "level = = ", 1);
        let errors = HallConfig::parse(&syntax, "hall.toml").unwrap_err();
        assert!(errors.0[0].line.is_some(), "{errors}");

        let unknown_field = DEMO_HALL_TOML.replacen("[hall]\n", "[hall]\ncolour = \"red\"\n", 1);
        let errors = HallConfig::parse(&unknown_field, "hall.toml").unwrap_err();
        assert!(errors.to_string().contains("colour"), "{errors}");
    }

    #[test]
    fn the_shipped_2026_calendar() {
        use hallq_core::DayType::*;
        let config = HallConfig::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../kiosk-config/demo-hall.toml"
        )))
        .unwrap();
        let calendar = &config.spec.calendar;
        let cases = [
            ("2026-01-01", Holiday, Some("元旦")),
            ("2026-01-04", MakeupWorkday, Some("元旦")),
            ("2026-02-13", Workday, None),
            ("2026-02-14", MakeupWorkday, Some("春节")),
            ("2026-02-15", Holiday, Some("春节")),
            ("2026-02-23", Holiday, Some("春节")),
            ("2026-02-24", Workday, None),
            ("2026-02-28", MakeupWorkday, Some("春节")),
            ("2026-04-06", Holiday, Some("清明节")),
            ("2026-05-05", Holiday, Some("劳动节")),
            ("2026-05-09", MakeupWorkday, Some("劳动节")),
            ("2026-06-19", Holiday, Some("端午节")),
            ("2026-09-20", MakeupWorkday, Some("国庆节")),
            ("2026-09-25", Holiday, Some("中秋节")),
            ("2026-10-01", Holiday, Some("国庆节")),
            ("2026-10-07", Holiday, Some("国庆节")),
            ("2026-10-08", Workday, None),
            ("2026-10-10", MakeupWorkday, Some("国庆节")),
            ("2026-11-28", Weekend, None),
        ];
        for (date, day_type, name) in cases {
            let day = calendar.day(date.parse().unwrap());
            assert_eq!(
                (day.day_type, day.name.as_deref()),
                (day_type, name),
                "{date}"
            );
            assert!(day.known);
        }
        // 2026 has 33 days off around the holidays and 6 make-up working days.
        let year: Vec<_> = (1..=365)
            .map(|n| {
                calendar.day(
                    hallq_core::jiff::civil::date(2026, 1, 1)
                        + hallq_core::jiff::ToSpan::days(n - 1),
                )
            })
            .collect();
        assert_eq!(year.iter().filter(|d| d.day_type == Holiday).count(), 33);
        assert_eq!(
            year.iter().filter(|d| d.day_type == MakeupWorkday).count(),
            6
        );
    }

    #[test]
    fn a_bad_calendar_entry_is_named_with_its_file_and_line() {
        let mut calendar = hallq_core::Calendar::default();
        let text = "{\"year\": 2026, \"days\": [\n  {\"name\": \"元旦\", \"date\": \"2026-01-01\", \"isOffDay\": true},\n  {\"name\": \"春节\", \"date\": \"2026-02-30\", \"isOffDay\": true}\n]}";
        let error = load_calendar_year(&mut calendar, "calendar/2026.json", text).unwrap_err();
        assert_eq!((error.key.as_str(), error.line), ("days[1].date", Some(3)));
        assert!(
            error
                .to_string()
                .starts_with("calendar/2026.json:3: days[1].date:"),
            "{error}"
        );
        let wrong_year = text.replace("2026-02-30", "2025-02-03");
        let error =
            load_calendar_year(&mut calendar, "calendar/2026.json", &wrong_year).unwrap_err();
        assert!(error.message.contains("not in 2026"), "{error}");
    }

    #[test]
    fn semantic_errors_point_at_the_entry() {
        let text = "[hall]\nname = \"x\"\nlevel = \"市本级\"\n\n[[services]]\nid = \"a\"\nname = \"A\"\n\
            prefix = \"A\"\ntarget_group = \"both\"\nitem_type = \"immediate\"\ndepartment = \"d\"\n\
            prior_service_s = 60\n\n[[windows]]\nid = \"w1\"\nname = \"1\"\nservices = [\"a\"]\n\n\
            [[windows]]\nid = \"w2\"\nname = \"2\"\nservices = [\"nope\"]\n";
        let errors = HallConfig::parse(text, "h.toml").unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors}");
        assert_eq!(errors.0[0].key, "windows[1].services[0]");
        assert_eq!(errors.0[0].line, Some(22));
    }
}
