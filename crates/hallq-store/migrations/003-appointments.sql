-- Appointments as they are now: a projection of the appointment_* events.
CREATE TABLE appointments (
    code TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    date TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    channel TEXT NOT NULL,
    phone TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    ticket INTEGER,
    booked_at_ms INTEGER NOT NULL
) STRICT;
-- Restart reads today's and later bookings; slot counts look up by service and start.
CREATE INDEX appointments_date ON appointments(date);
CREATE INDEX appointments_slot ON appointments(service, start_ms);
