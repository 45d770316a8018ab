//! The hall configuration file (TOML): the hall, its services and windows, its devices and
//! staff. Checked completely before the daemon serves; every error names the file, the line
//! and the key (see `errors`). One file per section, each with its own check:
//!
//! - `hall` — `[hall]`, `[storage]`;
//! - `calendar` — the yearly holiday files;
//! - `schedule` — `[[schedule]]` periods and `[appointments]` plans;
//! - `devices` — `[[printers]]`, `[[displays]]`, `[[devices]]`;
//! - `staff` — `[[staff]]`;
//! - `texts` — `[ticket]`, `[calling]`, `[sms]`;
//! - `security` — `[security]`;
//! - `upstream` — `[upstream]`, the city's hub;
//! - `backup` — `[backup]`, the nightly backup;
//! - `[ratings]` (好差评) is plain data checked by the core's `HallSpec::validate`.

mod backup;
mod calendar;
mod devices;
mod errors;
mod hall;
mod id_cards;
mod schedule;
mod security;
mod staff;
mod texts;
mod upstream;

pub use calendar::{load_calendar_year, BUILT_IN_CALENDAR};
pub use devices::{Device, DeviceKind, DisplaySettings, PrinterSettings};
pub use errors::{locate, ConfigError, ConfigErrors};
pub use hall::Department;
pub use id_cards::{IdCardSettings, IdReaderSettings};
pub use security::SecuritySettings;
pub use staff::StaffMember;
pub use texts::{fill, CallingSettings, SmsSettings, TicketSettings};
pub use upstream::{UpstreamSettings, MAX_BATCH_EVENTS};

use errors::Problems;
use hallq_core::jiff::tz::TimeZone;
use hallq_core::{HallSpec, Policy, ServiceSpec, WindowSpec};
use hallq_store::StoreOptions;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// The demo hall, compiled in so that `cargo run --release` works from any directory.
pub const DEMO_HALL_TOML: &str = include_str!("../../../../kiosk-config/demo-hall.toml");
pub const DEMO_HALL_PATH: &str = "kiosk-config/demo-hall.toml";

/// The file as written; each section is checked by its own module.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    hall: hall::HallSection,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    storage: hall::StorageSection,
    services: Vec<ServiceSpec>,
    /// English names and waiting areas, by the departments' Chinese names.
    #[serde(default)]
    departments: std::collections::BTreeMap<String, hall::Department>,
    windows: Vec<WindowSpec>,
    #[serde(default)]
    ticket: texts::TicketSection,
    #[serde(default)]
    printers: Vec<devices::PrinterSection>,
    #[serde(default)]
    calendar: calendar::CalendarSection,
    #[serde(default)]
    schedule: Vec<schedule::PeriodSection>,
    #[serde(default)]
    appointments: schedule::AppointmentsSection,
    #[serde(default)]
    calling: texts::CallingSection,
    #[serde(default)]
    displays: Vec<devices::DisplaySection>,
    sms: Option<texts::SmsSection>,
    #[serde(default)]
    devices: Vec<devices::DeviceSection>,
    /// Resident ID card readers, one per kiosk.
    #[serde(default)]
    id_readers: Vec<id_cards::IdReaderSection>,
    #[serde(default)]
    id_cards: id_cards::IdCardSection,
    #[serde(default)]
    staff: Vec<staff::StaffSection>,
    #[serde(default)]
    security: security::SecuritySection,
    #[serde(default)]
    upstream: upstream::UpstreamSection,
    #[serde(default)]
    backup: backup::BackupSection,
    /// 好差评: rating time, default, case deadlines, reasons, complaint categories.
    #[serde(default)]
    ratings: hallq_core::RatingPolicy,
}

/// A configuration that passed every check.
#[derive(Clone, Debug)]
pub struct HallConfig {
    pub source: String,
    /// The hall's id in the city (as the hub knows it).
    pub id: String,
    /// The hall's address, for citizens who book.
    pub address: Option<String>,
    /// The hall's name in English, for the kiosk's English mode.
    pub name_en: Option<String>,
    /// English names and waiting areas by department (Chinese name).
    pub departments: std::collections::BTreeMap<String, Department>,
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
    pub id_readers: Vec<IdReaderSettings>,
    pub id_cards: IdCardSettings,
    pub staff: Vec<StaffMember>,
    pub security: SecuritySettings,
    /// The city's hub, when this hall reports to one.
    pub upstream: Option<UpstreamSettings>,
    /// The nightly backup; `None` when turned off.
    pub backup: Option<crate::ops::backup::NightlySettings>,
}

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
    /// years when `None`). Every section is checked, and every problem reported at once.
    pub fn parse_with_calendar(
        text: &str,
        file: &str,
        directory: Option<&Path>,
    ) -> Result<Self, ConfigErrors> {
        let raw: ConfigFile =
            toml::from_str(text).map_err(|e| errors::syntax_error(file, text, &e))?;
        let mut problems = Problems::new(file, text);
        let hall_id = raw.hall.id.clone().unwrap_or_else(|| "hall".into());
        if !hallq_core::is_valid_id(&hall_id) {
            problems.at("hall.id", "use 1-40 characters a-z, 0-9, '-' or '_'");
        }
        let calendar = calendar::load(directory, &raw.calendar, &mut problems);
        let periods = schedule::periods(&raw.schedule, &mut problems);
        let (appointment_plans, appointment_rules) =
            schedule::plans(&raw.appointments, &mut problems);
        let spec = HallSpec {
            name: raw.hall.name.clone(),
            level: raw.hall.level.clone(),
            services: raw.services,
            windows: raw.windows,
            policy: raw.policy,
            schedule: hallq_core::Schedule { periods },
            calendar,
            appointment_plans,
            appointment_rules,
            ratings: raw.ratings,
        };
        if let Err(found) = spec.validate() {
            for problem in found {
                problems.at(problem.path, problem.message);
            }
        }
        let time_zone = TimeZone::get(&raw.hall.time_zone)
            .map_err(|e| problems.at("hall.time_zone", format!("unknown time zone: {e}")))
            .ok();
        if let Some(0) = raw.storage.max_size_mb {
            problems.at("storage.max_size_mb", "must be positive");
        }
        let departments = hall::departments(raw.departments, &spec.services, &mut problems);
        let window_ids: HashSet<&str> = spec.windows.iter().map(|w| w.id.as_str()).collect();
        let mut ids = HashSet::new();
        let ticket = texts::ticket(raw.ticket, &mut problems);
        let calling = texts::calling(raw.calling, &mut problems);
        let sms = texts::sms(raw.sms, &mut problems);
        let printers = devices::printers(raw.printers, &mut ids, &mut problems);
        let displays = devices::displays(raw.displays, &window_ids, &mut ids, &mut problems);
        let devices =
            devices::devices(raw.devices, &printers, &window_ids, &mut ids, &mut problems);
        let id_readers = id_cards::id_readers(raw.id_readers, &devices, &mut ids, &mut problems);
        let id_cards = id_cards::id_cards(raw.id_cards, &mut problems);
        let staff = staff::staff(raw.staff, &window_ids, &mut ids, &mut problems);
        let security = security::security(raw.security, &mut problems);
        let upstream = upstream::upstream(raw.upstream, &mut problems);
        let backup = backup::backup(raw.backup, &mut problems);
        if upstream.is_some() && raw.hall.id.is_none() {
            problems.at(
                "hall.id",
                "a hall that reports to a hub needs its id (as registered with `hallq-hub add-hall`)",
            );
        }
        match time_zone {
            Some(time_zone) if problems.is_empty() => Ok(HallConfig {
                source: file.to_owned(),
                id: hall_id,
                address: raw.hall.address.clone(),
                name_en: raw.hall.name_en.clone(),
                departments,
                spec,
                time_zone,
                time_zone_name: raw.hall.time_zone,
                demo: raw.hall.demo,
                storage: StoreOptions {
                    max_size_bytes: raw.storage.max_size_mb.map(|mb| mb * 1024 * 1024),
                },
                ticket,
                printers,
                calling,
                displays,
                sms,
                devices,
                id_readers,
                id_cards,
                staff,
                security,
                upstream,
                backup,
            }),
            _ => Err(problems.into_errors()),
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
             {} printers, {} devices, {} staff, {}, calendar years {}{}{}",
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
            match &self.upstream {
                Some(upstream) =>
                    format!("; reports to the hub at {} as '{}'", upstream.url, self.id),
                None => String::new(),
            },
            if self.demo { "; demo hall" } else { "" }
        )
    }
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
        let tax = config.spec.windows.iter().find(|w| w.id.as_str() == "w02");
        assert_eq!(
            tax.unwrap().breaks,
            vec![hallq_core::DailyBreak::try_from("12:00-13:00".to_owned()).unwrap()]
        );
    }

    #[test]
    fn a_wrong_break_is_named_with_its_line() {
        for wrong in [
            "13:00-12:00",
            "12:00",
            "25:00-26:00",
            "12:00-12:61",
            "noon-one",
        ] {
            let broken = DEMO_HALL_TOML.replacen(
                "breaks = [\"12:00-13:00\"]",
                &format!("breaks = [\"{wrong}\"]"),
                1,
            );
            let errors = HallConfig::parse(&broken, "hall.toml").unwrap_err();
            let error = &errors.0[0];
            let expected = broken.lines().position(|l| l.contains(wrong)).unwrap() + 1;
            assert_eq!(error.line, Some(expected), "{wrong}: {errors}");
            assert!(error.key.ends_with("breaks"), "{wrong}: {errors}");
            assert!(
                error.to_string().contains("12:00-13:00"),
                "{wrong}: {errors}"
            );
        }
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
