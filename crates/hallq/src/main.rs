//! The `hallq` command: `serve` (the default), `check-config`, `hash-secret`, `verify-log`.

use clap::{Args, Parser, Subcommand};
use hallq::app::{Application, Settings};
use hallq::config::{HallConfig, DEMO_HALL_PATH, DEMO_HALL_TOML};
use hallq::credentials::{hash_pin, hash_token};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallq",
    version,
    about = "Queue and appointment daemon of a government service hall"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Commands {
    /// Run the daemon (what runs with no subcommand).
    Serve(ServeArgs),
    /// Check a hall configuration and print a summary; exits non-zero naming the key and line.
    CheckConfig { file: PathBuf },
    /// Print the hash of a secret for the configuration (token_sha256 or pin_argon2). The
    /// secret is read from standard input (or asked for at a terminal), never from the command
    /// line, where shell history would keep it: `hallq new-token | tee token | hallq hash-secret --token`.
    HashSecret {
        /// Hash a device token, for `token_sha256` (at least 24 characters: `hallq new-token`).
        #[arg(long, conflicts_with = "pin", required_unless_present = "pin", num_args = 0..=1)]
        token: Option<Option<String>>,
        /// Hash a staff PIN, for `pin_argon2` (six digits or more).
        #[arg(long, num_args = 0..=1)]
        pin: Option<Option<String>>,
    },
    /// Make the running daemon read its configuration again (as `systemctl reload hallq` and
    /// SIGHUP do): with --config the file is checked first; on any error the running
    /// configuration stays (the daemon's log says why).
    Reload {
        #[arg(long, env = "HALLQ_DATA", default_value = "var")]
        data: PathBuf,
        /// Check this file before asking the daemon to reload it.
        #[arg(long, env = "HALLQ_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print a new, strong device token (128 random bits).
    NewToken,
    /// Back up the hall's database while it serves, into a new FILE (and its key into FILE.key).
    Backup {
        #[arg(long, env = "HALLQ_DATA", default_value = "var")]
        data: PathBuf,
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into a data directory no daemon is using (the database there is moved
    /// aside, not deleted).
    Restore {
        /// The backup file (FILE.key beside it is restored too).
        #[arg(long)]
        from: PathBuf,
        #[arg(long, env = "HALLQ_DATA", default_value = "var")]
        data: PathBuf,
    },
    /// Print a test ticket (Chinese text and a QR code) on a printer; exits non-zero, saying
    /// why, when the printer reports paper out, cover open or offline, or cannot be reached.
    PrintTest {
        /// tcp://HOST:9100, serial:///dev/ttyUSB0?baud=9600, usb:///dev/usb/lp0, file:///PATH
        #[arg(long)]
        to: String,
        /// 58mm or 80mm
        #[arg(long, default_value = "80mm")]
        paper: String,
        /// native (GS ( k) or raster
        #[arg(long, default_value = "native")]
        qr: String,
        /// The hall's configuration, for its time zone (the ticket shows hall time).
        #[arg(long, env = "HALLQ_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Read one resident ID card, for installers checking a kiosk's reader: prints only the
    /// masked number, the age and the card's validity.
    IdTest {
        /// serial:///dev/ttyUSB0?baud=115200, or tcp://HOST:PORT for a serial-over-IP converter
        #[arg(long)]
        to: String,
        /// How long to wait for a card to be laid on the reader, in seconds.
        #[arg(long, default_value_t = 10)]
        wait: u64,
        /// The hall's configuration, for its time zone (the age is on the hall's date).
        #[arg(long, env = "HALLQ_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Send one frame to an LED window display, for installers checking wiring and addresses.
    DisplayTest {
        /// serial:///dev/ttyUSB0?baud=9600, tcp://HOST:PORT (serial-over-IP), file:///PATH
        #[arg(long)]
        to: String,
        /// plain, framed or modbus
        #[arg(long, default_value = "framed")]
        protocol: String,
        /// The display's address on the line
        #[arg(long, default_value_t = 1)]
        address: u8,
        /// First register (modbus)
        #[arg(long, default_value_t = 0)]
        register: u16,
        #[arg(long, default_value = "请A001号到1号窗口办理")]
        text: String,
    },
    /// Write one of the two published lists (错时延时 / 预约办理事项清单) from a configuration.
    Lists {
        /// extended or appointment
        kind: String,
        /// csv, xlsx or html
        #[arg(long, default_value = "csv")]
        format: String,
        /// Where to write it [default: standard output; required for xlsx]
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long, env = "HALLQ_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check that the event log in a data directory has no gap; exits non-zero if it has.
    VerifyLog {
        #[arg(long, env = "HALLQ_DATA", default_value = "var")]
        data: PathBuf,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Hall configuration file [default: kiosk-config/demo-hall.toml, or the built-in demo hall]
    #[arg(long, env = "HALLQ_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the database
    #[arg(long, env = "HALLQ_DATA", default_value = "var")]
    data: PathBuf,
    /// Address to listen on
    #[arg(long, env = "HALLQ_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// HTTP worker threads
    #[arg(long, env = "HALLQ_WORKERS", default_value_t = 2)]
    workers: usize,
}

/// Prints a line; a reader that went away (`hallq check-config … | head`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Commands::Serve(args)) => serve(args),
        Some(Commands::CheckConfig { file }) => check_config(&file),
        Some(Commands::HashSecret { token, pin }) => hash_secret(token, pin),
        Some(Commands::Reload { data, config }) => reload(&data, config.as_deref()),
        Some(Commands::NewToken) => {
            say!("{}", hallq::credentials::random_token());
            Ok(())
        }
        Some(Commands::Backup { data, to }) => backup(&data, &to),
        Some(Commands::Restore { from, data }) => restore(&from, &data),
        Some(Commands::VerifyLog { data }) => verify_log(&data),
        Some(Commands::PrintTest {
            to,
            paper,
            qr,
            config,
        }) => print_test(&to, &paper, &qr, config.as_deref()),
        Some(Commands::Lists {
            kind,
            format,
            output,
            config,
        }) => lists(&kind, &format, output.as_deref(), config.as_deref()),
        Some(Commands::IdTest { to, wait, config }) => id_test(&to, wait, config.as_deref()),
        Some(Commands::DisplayTest {
            to,
            protocol,
            address,
            register,
            text,
        }) => display_test(&to, &protocol, address, register, &text),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hallq: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours for a person at a terminal; plain text for journald and log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_target(false)
        .init();
}

fn load_config(path: Option<&Path>) -> Result<HallConfig, String> {
    match path {
        Some(path) => {
            HallConfig::load(path).map_err(|e| format!("the configuration is not valid:\n{e}"))
        }
        None if Path::new(DEMO_HALL_PATH).exists() => HallConfig::load(Path::new(DEMO_HALL_PATH))
            .map_err(|e| format!("the configuration is not valid:\n{e}")),
        None => HallConfig::parse(DEMO_HALL_TOML, "(built-in demo hall)")
            .map_err(|e| format!("the built-in demo hall is not valid:\n{e}")),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    init_logging();
    release_large_allocations();
    let mut config = load_config(args.config.as_deref())?;
    config.upstream = hallq::config::UpstreamSettings::with_environment(
        config.upstream.take(),
        std::env::var("HALLQ_UPSTREAM_URL").ok(),
        std::env::var("HALLQ_UPSTREAM_TOKEN").ok(),
    );
    tracing::info!("{}", config.summary());
    let settings = Settings {
        config,
        data_dir: args.data.clone(),
        listen: args.listen.clone(),
        workers: args.workers,
    };
    let demo = settings.config.demo;
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).map_err(|e| e.to_string())?;
        tracing::info!(
            "listening on http://{} (data in {})",
            display_address(&args.listen, application.port()),
            args.data.display()
        );
        if demo {
            tracing::info!("demo hall: kiosk token demo-kiosk-token, staff demo-staff/246810, manager demo-manager/135790");
        }
        application.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// glibc raises its mmap threshold after a large block is freed, so that each PIN check's
/// ~19 MB of argon2 memory would afterwards come from the heap and stay resident for good
/// (15 staff signing in kept 300 MB). A fixed threshold keeps every allocation of 1 MiB or
/// more in its own mapping, returned to the system when freed.
fn release_large_allocations() {
    // SAFETY: mallopt only sets an allocator parameter; called once at start, before threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn display_address(listen: &str, port: u16) -> String {
    match listen.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{listen}:{port}"),
    }
}

fn check_config(file: &Path) -> Result<(), String> {
    let config = HallConfig::load(file).map_err(|e| e.to_string())?;
    say!("{}: ok", file.display());
    say!("{}", config.summary());
    let refusals = deployment_refusals(&config, file, hallq_core::jiff::Timestamp::now());
    if refusals.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}: not ready for a real hall:\n{}",
        file.display(),
        refusals
            .iter()
            .map(|r| format!("  - {r}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// What a real hall (not `demo = true`) must not go live with: the public demo credentials, a
/// missing holiday calendar, ticket QR codes pointing at a loopback address no phone reaches.
fn deployment_refusals(
    config: &HallConfig,
    file: &Path,
    now: hallq_core::jiff::Timestamp,
) -> Vec<String> {
    let mut refusals = Vec::new();
    if config.demo {
        return refusals;
    }
    let auth =
        hallq::auth::Authenticator::new(config.devices.clone(), config.staff.clone(), vec![], 12);
    let demo = auth.demo_credentials_in_use();
    if !demo.is_empty() {
        refusals.push(format!(
            "these entries use the public demo credentials: {} — give each its own secret \
             (`hallq new-token`, then `hallq hash-secret --token` / `--pin`)",
            demo.join(", ")
        ));
    }
    let today = now.to_zoned(config.time_zone.clone()).date();
    // Next year's calendar is published by the State Council in the autumn: required from
    // December, when bookings reach into January.
    let mut years = vec![today.year()];
    if today.month() == 12 {
        years.push(today.year() + 1);
    }
    let folder = file
        .parent()
        .map(|dir| dir.join("calendar"))
        .unwrap_or_else(|| PathBuf::from("calendar"));
    for year in years {
        if !config.spec.calendar.has_year(year) {
            refusals.push(format!(
                "no holiday calendar for {year}: holidays and make-up working days would be \
                 unknown — copy {year}.json (kiosk-config/calendar/ has the published years) \
                 into {} (or the folder `[calendar] directory` names)",
                folder.display()
            ));
        }
    }
    let base = &config.ticket.public_base_url;
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(base)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let loopback = host == "localhost"
        || host == "0.0.0.0"
        || base.contains("[::1]")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        refusals.push(format!(
            "[ticket] public_base_url is {base}: the QR code on every ticket would point there, \
             which no citizen's phone can reach — give the hall's address as phones see it \
             (https://hall.example.gov.cn)"
        ));
    }
    refusals
}

/// Reads a secret from standard input (one line), asking for it without echo at a terminal.
fn read_secret(what: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        let _ = write!(std::io::stderr(), "{what}: ");
        let _ = std::io::stderr().flush();
    }
    let echo = terminal.then(disable_echo).flatten();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = echo {
        restore_echo(saved);
        let _ = writeln!(std::io::stderr());
    }
    read.map_err(|e| format!("cannot read the {what}: {e}"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(format!(
            "no {what} given: type it, or pipe it into standard input"
        ));
    }
    Ok(secret)
}

fn disable_echo() -> Option<libc::termios> {
    // SAFETY: termios is plain data; tcgetattr/tcsetattr only read and set the terminal's modes.
    unsafe {
        let mut saved: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
            return None;
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        (libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) == 0).then_some(saved)
    }
}

fn restore_echo(saved: libc::termios) {
    // SAFETY: as in disable_echo.
    unsafe {
        libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
    }
}

/// A device token anyone could guess is refused: long, and not a repeated pattern.
fn weak_token(token: &str) -> Option<&'static str> {
    let distinct: std::collections::HashSet<char> = token.chars().collect();
    if token.chars().count() < 24 {
        Some("a device token is at least 24 characters")
    } else if distinct.len() < 10 {
        Some("a device token needs at least 10 different characters")
    } else {
        None
    }
}

fn hash_secret(token: Option<Option<String>>, pin: Option<Option<String>>) -> Result<(), String> {
    let on_command_line = |given: &Option<String>| {
        given.as_ref().map(|_| {
            "give the secret on standard input (or type it when asked), not on the command \
             line: shell history keeps command lines"
                .to_owned()
        })
    };
    match (token, pin) {
        (Some(given), None) => {
            if let Some(refusal) = on_command_line(&given) {
                return Err(refusal);
            }
            let token = read_secret("device token")?;
            if let Some(why) = weak_token(&token) {
                return Err(format!("{why}: `hallq new-token` prints a strong one"));
            }
            say!("token_sha256 = \"{}\"", hash_token(&token));
            Ok(())
        }
        (None, Some(given)) => {
            if let Some(refusal) = on_command_line(&given) {
                return Err(refusal);
            }
            let pin = read_secret("PIN")?;
            if pin.len() < 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                return Err("a PIN is at least six digits".into());
            }
            say!("pin_argon2 = \"{}\"", hash_pin(&pin)?);
            Ok(())
        }
        _ => Err("give --token or --pin".into()),
    }
}

fn reload(data: &Path, config: Option<&Path>) -> Result<(), String> {
    if let Some(file) = config {
        HallConfig::load(file).map_err(|e| format!("not reloaded: {e}"))?;
    }
    let pid_file = data.join(hallq::app::PID_FILE);
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "no daemon's process id in {}: is hallq running with --data {}?",
                pid_file.display(),
                data.display()
            )
        })?;
    if !hallq::ops::backup::in_use(data) {
        return Err(format!(
            "no hallq daemon is running with {}",
            data.display()
        ));
    }
    // SAFETY: kill(2) with a process id and a signal number; no memory is shared.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(format!(
            "cannot signal process {pid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    say!("asked hallq (process {pid}) to reload its configuration: its log says what changed");
    Ok(())
}

fn backup(data: &Path, to: &Path) -> Result<(), String> {
    let summary = hallq::ops::backup::backup(data, to)?;
    say!(
        "backed up {} events (sequence 1..{}) and {} tickets into {} ({} bytes); the key is in {}.key: keep both together",
        summary.events,
        summary.last_seq,
        summary.tickets,
        to.display(),
        summary.bytes,
        to.display()
    );
    Ok(())
}

fn restore(from: &Path, data: &Path) -> Result<(), String> {
    let restored = hallq::ops::backup::restore(from, data, hallq_core::jiff::Timestamp::now())?;
    say!(
        "restored {} events (sequence 1..{}) and {} tickets into {}",
        restored.summary.events,
        restored.summary.last_seq,
        restored.summary.tickets,
        data.display()
    );
    if let Some(aside) = restored.set_aside {
        say!("the database that was there is kept as {}", aside.display());
    }
    if !restored.key_restored {
        say!(
            "warning: no key beside the backup ({}.key): phone numbers kept for SMS cannot be opened with a new key",
            from.display()
        );
    }
    say!("start the daemon: screens and followers resume from the restored log");
    Ok(())
}

fn verify_log(data: &Path) -> Result<(), String> {
    let path = data.join("hallq.db");
    if !path.exists() {
        return Err(format!("there is no database at {}", path.display()));
    }
    let store = hallq_store::Store::open_reader(&path).map_err(|e| e.to_string())?;
    let check = store.check_log().map_err(|e| e.to_string())?;
    say!(
        "{} events, sequence {}..{}",
        check.count,
        check.first_seq.unwrap_or(0),
        check.last_seq.unwrap_or(0)
    );
    if check.is_gap_free() {
        say!("gap-free");
        Ok(())
    } else {
        Err("the event log has a gap: restore the database from a backup and report it".into())
    }
}

fn print_test(to: &str, paper: &str, qr: &str, config: Option<&Path>) -> Result<(), String> {
    use hallq_devices::printer::{print_with_retry, PrintOutcome};
    use hallq_devices::{render_test_ticket, DeviceUrl, PaperWidth, QrMode, TicketLayout};
    let url: DeviceUrl = to.parse().map_err(|e| format!("{e}"))?;
    let layout = TicketLayout {
        paper: PaperWidth::parse(paper).ok_or("--paper is 58mm or 80mm")?,
        qr: QrMode::parse(qr).ok_or("--qr is native or raster")?,
        ..TicketLayout::default()
    };
    // Hall time, as on every ticket (not the box's own zone, often UTC on servers).
    let zone = load_config(config)?.time_zone;
    let now = hallq_core::jiff::Timestamp::now()
        .to_zoned(zone)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let mut connection = None;
    match print_with_retry(&mut connection, &url, &render_test_ticket(&layout, &now)) {
        PrintOutcome::Printed => {
            say!("printed a test ticket on {url}: check the Chinese text and scan the QR code");
            Ok(())
        }
        PrintOutcome::Failed { condition, reason } => {
            Err(format!("{url}: {}: {reason}", condition.as_str()))
        }
    }
}

fn id_test(to: &str, wait_s: u64, config: Option<&Path>) -> Result<(), String> {
    use hallq_devices::id_card::{IdReader, ReadError};
    let url: hallq_devices::DeviceUrl = to.parse().map_err(|e| format!("{e}"))?;
    let stream = hallq_devices::transport::open_stream(&url, std::time::Duration::from_secs(2))
        .map_err(|e| {
            format!(
                "no reader at {url}: {e} — check the cable, the device name (ls /dev/serial/by-id) \
                 and that no other program holds the port"
            )
        })?;
    let mut reader = IdReader::new(stream, std::time::Duration::from_secs(3));
    let zone = load_config(config)?.time_zone;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait_s);
    let card = loop {
        match reader.read_card() {
            Ok(Some(card)) => break card,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(300))
            }
            Ok(None) => {
                return Err(format!(
                    "the reader at {url} answers, but no card was laid on it within {wait_s} s"
                ))
            }
            Err(ReadError::CardLost) if std::time::Instant::now() < deadline => {
                say!("the card was taken away during the read: lay it on again and hold it still");
            }
            Err(error) => return Err(format!("{url}: {error}")),
        }
    };
    let today = hallq::followers::id_readers::card_date(
        hallq_core::jiff::Timestamp::now().to_zoned(zone).date(),
    );
    let validity = match card.valid_until {
        None => format!("valid from {} for life (长期)", card.valid_from),
        Some(until) if until < today => {
            format!(
                "valid {} to {until}: EXPIRED (still accepted for queueing)",
                card.valid_from
            )
        }
        Some(until) => format!("valid {} to {until}", card.valid_from),
    };
    // The masked number only: a test print on an installer's screen is not a place for it.
    say!(
        "read a card on {url}: {} · age {} · {validity}",
        card.masked(),
        card.birth.years_until(today)
    );
    Ok(())
}

fn display_test(
    to: &str,
    protocol: &str,
    address: u8,
    register: u16,
    text: &str,
) -> Result<(), String> {
    use hallq_devices::display::{encode, Protocol};
    let url: hallq_devices::DeviceUrl = to.parse().map_err(|e| format!("{e}"))?;
    let protocol = Protocol::parse(protocol).ok_or("--protocol is plain, framed or modbus")?;
    let frame = encode(protocol, address, register, text);
    let mut transport = hallq_devices::transport::open(&url, std::time::Duration::from_secs(2))
        .map_err(|e| format!("{url}: unreachable: {e}"))?;
    transport
        .write_all(&frame)
        .map_err(|e| format!("{url}: writing failed: {e}"))?;
    let hex: Vec<String> = frame.iter().map(|b| format!("{b:02X}")).collect();
    say!("sent to {url}, address {address}: {}", hex.join(" "));
    Ok(())
}

fn lists(
    kind: &str,
    format: &str,
    output: Option<&Path>,
    config: Option<&Path>,
) -> Result<(), String> {
    use hallq::lists::{rows, to_csv, to_html, to_xlsx, ListKind};
    let kind = ListKind::parse(kind).ok_or("the list is extended or appointment")?;
    let config = load_config(config)?;
    let rows = rows(&config, kind);
    let bytes = match format {
        "csv" => to_csv(&rows),
        "html" => to_html(&config, kind, &rows).into_bytes(),
        "xlsx" if output.is_none() => return Err("xlsx needs --output FILE".into()),
        "xlsx" => to_xlsx(&config, kind, &rows)?,
        _ => return Err("--format is csv, xlsx or html".into()),
    };
    match output {
        Some(path) => {
            std::fs::write(path, bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "{}: {} rows written to {}",
                kind.title(),
                rows.len(),
                path.display()
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
