-- Phone numbers are no longer kept as such. A ticket or booking keeps a contact: a keyed hash to
-- match with, the number sealed (encrypted with the hall's key, which is not in the database)
-- for sending an SMS, and a masked form for staff — as JSON {"key", "sealed"?, "masked"}.
-- Numbers written before this version cannot be sealed here (the key is the daemon's), so they
-- are dropped, from the tables and from the log alike; so are booking names.
ALTER TABLE tickets ADD COLUMN contact TEXT;
ALTER TABLE tickets DROP COLUMN phone;
ALTER TABLE appointments ADD COLUMN contact TEXT NOT NULL DEFAULT '{"key":"","masked":""}';
ALTER TABLE appointments DROP COLUMN phone;
ALTER TABLE appointments DROP COLUMN name;
ALTER TABLE appointments ADD COLUMN name_sealed TEXT;
UPDATE events SET data = json_remove(data, '$.ticket.phone') WHERE kind = 'ticket_issued';
UPDATE events SET data = json_remove(data, '$.appointment.phone', '$.appointment.name')
    WHERE kind = 'appointment_booked';

-- What staff and managers did, for managers to read. Append-only: the database itself refuses
-- to change or delete a row.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    address TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX audit_at ON audit(at_ms);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
