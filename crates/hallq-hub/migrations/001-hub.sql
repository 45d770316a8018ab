-- The hub's first schema: halls and their logs, waits, devices, profiles, calendars, managers
-- and the hub's own bookings. docs/scaling.md says how these tables grow past one machine.

CREATE TABLE halls (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    -- The hall's token is never kept, only its SHA-256 (a hall proves itself with the token).
    token_sha256  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Where each hall's copy of the log ends, and the counters of the link.
CREATE TABLE hall_sync (
    hall                text PRIMARY KEY REFERENCES halls (id),
    last_seq            bigint NOT NULL DEFAULT 0,
    events_received     bigint NOT NULL DEFAULT 0,
    duplicates_dropped  bigint NOT NULL DEFAULT 0,
    snapshots_received  bigint NOT NULL DEFAULT 0,
    log_seq             bigint NOT NULL DEFAULT 0,
    last_push_at        timestamptz,
    last_snapshot_at    timestamptz,
    -- The hub-booking feed position the hall has applied.
    bookings_acked      bigint NOT NULL DEFAULT 0
);

-- Every event of every hall, once: (hall, seq) is the hall's gap-free numbering.
CREATE TABLE hall_events (
    hall  text NOT NULL,
    seq   bigint NOT NULL,
    kind  text NOT NULL,
    at    timestamptz NOT NULL,
    data  jsonb NOT NULL,
    PRIMARY KEY (hall, seq)
);

-- A row per service per snapshot (every minute per hall).
CREATE TABLE wait_snapshots (
    hall            text NOT NULL REFERENCES halls (id),
    at              timestamptz NOT NULL,
    service         text NOT NULL,
    waiting         integer NOT NULL,
    average_wait_s  integer NOT NULL,
    p90_wait_s      integer NOT NULL,
    served_today    integer NOT NULL,
    open_windows    integer NOT NULL,
    estimate_s      integer NOT NULL,
    PRIMARY KEY (hall, at, service)
);

-- Each device's latest condition.
CREATE TABLE device_health (
    hall       text NOT NULL REFERENCES halls (id),
    device     text NOT NULL,
    kind       text NOT NULL,
    condition  text NOT NULL,
    detail     text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (hall, device)
);

-- What the hall told the hub about itself: services, appointment plans and shares, rules.
CREATE TABLE hall_profiles (
    hall        text PRIMARY KEY REFERENCES halls (id),
    profile     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The yearly holiday files, as given (holiday-cn layout).
CREATE TABLE calendars (
    year      smallint PRIMARY KEY,
    file      text NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE managers (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    pin_argon2       text NOT NULL,
    failures         integer NOT NULL DEFAULT 0,
    locked_until     timestamptz
);

CREATE TABLE manager_sessions (
    token_sha256  text PRIMARY KEY,
    manager       text NOT NULL REFERENCES managers (id) ON DELETE CASCADE,
    expires_at    timestamptz NOT NULL
);

-- The hub's bookings (online, SMS), from each slot's hub share. Phones as the hub's keyed
-- hash and sealed; never as such.
CREATE TABLE hub_bookings (
    code            text PRIMARY KEY,
    hall            text NOT NULL REFERENCES halls (id),
    service         text NOT NULL,
    start_at        timestamptz NOT NULL,
    end_at          timestamptz NOT NULL,
    local_date      date NOT NULL,
    channel         text NOT NULL,
    phone_key       text NOT NULL,
    phone_sealed    text,
    phone_masked    text NOT NULL,
    name_sealed     text,
    -- booked, cancelled, checked_in, no_show, refused
    status          text NOT NULL,
    refused_reason  text,
    booked_at       timestamptz NOT NULL DEFAULT now(),
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hub_bookings_slot ON hub_bookings (hall, service, start_at);
CREATE INDEX hub_bookings_person ON hub_bookings (phone_key, local_date);

-- The feed each hall pulls: every booking and cancellation, in order.
CREATE TABLE booking_changes (
    id      bigserial PRIMARY KEY,
    hall    text NOT NULL REFERENCES halls (id),
    code    text NOT NULL REFERENCES hub_bookings (code),
    change  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_changes_hall ON booking_changes (hall, id);
