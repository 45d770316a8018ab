//! The `hallq-hub` command: `serve` (the default), `add-hall`, `new-token`, `add-manager`,
//! `add-calendar`, `migrate`.

use clap::{Args, Parser, Subcommand};
use hallq_hub::app::{Hub, HubSettings};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallq-hub",
    version,
    about = "The city hub of hallq: halls' logs and waits in PostgreSQL, online and SMS booking, calendars"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Args)]
struct Database {
    /// postgresql://USER@HOST:PORT/DATABASE (or key=value pairs)
    #[arg(long, env = "HALLQ_HUB_DATABASE_URL")]
    database_url: String,
}

#[derive(Subcommand)]
enum Commands {
    /// Run the hub (what runs with no subcommand).
    Serve(ServeArgs),
    /// Register a hall; prints its token once, on the last line (the hub keeps only its hash).
    AddHall {
        /// The hall's id, as its configuration's [hall] id
        id: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: Database,
    },
    /// Give a hall a new token (the old one stops working); prints it on the last line.
    NewToken {
        id: String,
        #[command(flatten)]
        database: Database,
    },
    /// Add a hub manager, or set a new PIN; the PIN is read from standard input.
    AddManager {
        id: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: Database,
    },
    /// Load a year's holiday file (kiosk-config/calendar/2027.json) for every hall to fetch.
    AddCalendar {
        file: PathBuf,
        #[command(flatten)]
        database: Database,
    },
    /// Bring the database's schema up to date (the hub does this at every start too).
    Migrate {
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "HALLQ_HUB_LISTEN", default_value = "127.0.0.1:8090")]
    listen: String,
    /// postgresql://USER@HOST:PORT/DATABASE
    #[arg(long, env = "HALLQ_HUB_DATABASE_URL")]
    database_url: Option<String>,
    /// Directory for the hub's key (secret.key, made at the first start: back it up)
    #[arg(long, env = "HALLQ_HUB_DATA", default_value = "var-hub")]
    data: PathBuf,
    /// HTTP worker threads
    #[arg(long, env = "HALLQ_HUB_WORKERS", default_value_t = 2)]
    workers: usize,
    /// Most connections to PostgreSQL at once
    #[arg(long, env = "HALLQ_HUB_POOL_SIZE", default_value_t = 16)]
    pool_size: usize,
    /// The SMS gateway (POST {"phone", "text", "purpose"}), for phone codes and confirmations
    #[arg(long, env = "HALLQ_HUB_SMS_GATEWAY_URL")]
    sms_gateway_url: Option<String>,
    /// Sent to the gateway as Authorization: Bearer
    #[arg(long, env = "HALLQ_HUB_SMS_GATEWAY_TOKEN", hide_env_values = true)]
    sms_gateway_token: Option<String>,
    /// What the gateway presents when it posts citizens' messages to /v1/sms/inbound
    #[arg(long, env = "HALLQ_HUB_SMS_INBOUND_TOKEN", hide_env_values = true)]
    sms_inbound_token: Option<String>,
    /// Bookings, cancellations and phone codes one address may ask for a minute
    #[arg(
        long,
        env = "HALLQ_HUB_CITIZEN_REQUESTS_PER_MINUTE",
        default_value_t = 20
    )]
    citizen_requests_per_minute: u32,
    /// The city's time zone: what "today" means in the city's reports
    #[arg(long, env = "HALLQ_HUB_TIME_ZONE", default_value = "Asia/Shanghai")]
    time_zone: String,
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Commands::Serve(args)) => serve(args),
        Some(command) => run_admin(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hallq-hub: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; plain text for journald and log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let database_url = args.database_url.ok_or(
        "give the database with --database-url postgresql://USER@HOST:PORT/DATABASE \
         (or HALLQ_HUB_DATABASE_URL)",
    )?;
    let settings = HubSettings {
        listen: args.listen.clone(),
        database_url,
        data_dir: args.data,
        workers: args.workers,
        pool_size: args.pool_size.clamp(1, 500),
        sms_gateway: args
            .sms_gateway_url
            .filter(|url| !url.trim().is_empty())
            .map(|url| (url, args.sms_gateway_token.filter(|t| !t.is_empty()))),
        sms_inbound_token: args.sms_inbound_token.filter(|t| !t.trim().is_empty()),
        citizen_requests_per_minute: args.citizen_requests_per_minute.clamp(1, 100_000),
        time_zone: args.time_zone,
    };
    actix_web::rt::System::new().block_on(async move {
        let hub = Hub::build(settings).await.map_err(|e| e.to_string())?;
        tracing::info!(
            "hub listening on http://{}",
            listening_address(&args.listen, hub.port)
        );
        hub.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn listening_address(listen: &str, port: u16) -> String {
    match listen.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => listen.to_owned(),
    }
}

fn run_admin(command: Commands) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        match command {
            Commands::AddHall { id, name, database } => {
                let token = hallq_hub::admin::add_hall(&database.database_url, &id, &name)
                    .await
                    .map_err(|e| e.to_string())?;
                say!("registered hall '{id}' ({name}).");
                say!("Give the hall this token (HALLQ_UPSTREAM_TOKEN, or [upstream] token); it is not shown again:");
                say!("{token}");
            }
            Commands::NewToken { id, database } => {
                let token = hallq_hub::admin::new_token(&database.database_url, &id)
                    .await
                    .map_err(|e| e.to_string())?;
                say!("hall '{id}' has a new token; the old one no longer works:");
                say!("{token}");
            }
            Commands::AddManager { id, name, database } => {
                let pin = read_secret_line()?;
                hallq_hub::admin::add_manager(&database.database_url, &id, &name, &pin)
                    .await
                    .map_err(|e| e.to_string())?;
                say!("manager '{id}' can sign in.");
            }
            Commands::AddCalendar { file, database } => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                let year = hallq_hub::admin::add_calendar(&database.database_url, &text)
                    .await
                    .map_err(|e| e.to_string())?;
                say!("calendar {year} loaded; halls fetch it at their next pull.");
            }
            Commands::Migrate { database } => {
                hallq_hub::admin::migrate(&database.database_url)
                    .await
                    .map_err(|e| e.to_string())?;
                say!("the database schema is up to date.");
            }
            Commands::Serve(_) => unreachable!("serve is handled before"),
        }
        Ok(())
    })
}

/// One line from standard input, without its line end: a PIN never goes on the command line
/// (where `ps` and the shell's history would show it).
fn read_secret_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the PIN from standard input: {e}"))?;
    let pin = line.trim_end_matches(['\r', '\n']).to_owned();
    if pin.is_empty() {
        return Err("give the PIN on standard input: echo PIN | hallq-hub add-manager …".into());
    }
    Ok(pin)
}
