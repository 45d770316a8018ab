-- A citizen may give their resident ID number when booking online, so that laying the card on
-- the hall's kiosk checks the booking in. The hub keeps it only sealed (under the hub's key),
-- only until the hall has taken the booking (the hall keeps its own keyed hash), then drops it.
ALTER TABLE hub_bookings ADD COLUMN id_sealed TEXT;
