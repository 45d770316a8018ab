-- Workers that resume after a restart (SMS, later upstream sync) look up today's events of one
-- kind; this keeps that an index range, however long the history.
CREATE INDEX events_kind_at ON events(kind, at_ms);
