-- Resident ID cards (实名取号, check-in by card): like a phone, never the number — a keyed hash
-- to match with and a masked form for the staff console, as JSON {"key", "masked"}; no sealed
-- copy (nobody dials an ID number). Purged with the other personal data.
ALTER TABLE tickets ADD COLUMN id_card TEXT;
ALTER TABLE appointments ADD COLUMN id_card TEXT;
