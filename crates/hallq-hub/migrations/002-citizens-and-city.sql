-- Citizens' booking and the city's view: each hall's number in SMS commands (`YY 1A …`), the
-- latest snapshot per hall for the city's dashboard, and SMS codes that confirm a phone.

ALTER TABLE halls ADD COLUMN sms_number serial;
CREATE UNIQUE INDEX halls_sms_number ON halls (sms_number);

ALTER TABLE hall_sync ADD COLUMN latest_snapshot jsonb;

-- One code per phone (by the hub's keyed hash), single use, for a few minutes.
CREATE TABLE phone_checks (
    phone_key        text PRIMARY KEY,
    code_sha256      text NOT NULL,
    sent_at          timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    -- Codes sent to this phone in the current hour (at most 5).
    sent_this_hour   integer NOT NULL DEFAULT 1,
    hour_started     timestamptz NOT NULL
);
