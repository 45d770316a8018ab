-- The event log: the single source for everything downstream. `seq` is gap-free: the engine
-- assigns last + 1 to every event inside the transaction that commits it.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ticket INTEGER,
    data TEXT NOT NULL
) STRICT;
CREATE INDEX events_ticket ON events(ticket) WHERE ticket IS NOT NULL;

-- Tickets as they are now: a projection of the log, written in the same transaction.
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    service_day TEXT NOT NULL,
    number TEXT NOT NULL,
    number_service TEXT NOT NULL,
    service TEXT NOT NULL,
    priority TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    queued_at_ms INTEGER NOT NULL,
    called_at_ms INTEGER,
    finished_at_ms INTEGER,
    window TEXT,
    recalls INTEGER NOT NULL,
    requeues INTEGER NOT NULL,
    transfers INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    phone TEXT,
    kiosk TEXT,
    idempotency_key TEXT
) STRICT;
-- The database itself refuses a number issued twice for one service on one day.
CREATE UNIQUE INDEX tickets_number ON tickets(service_day, number_service, number);
CREATE UNIQUE INDEX tickets_idempotency ON tickets(service_day, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Restart reads only the open tickets and today's: both are indexed.
CREATE INDEX tickets_open ON tickets(status) WHERE status IN ('waiting', 'called');

CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL
) STRICT;

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
