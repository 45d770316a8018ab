-- Nothing looks events up by ticket (followers read the log by sequence number), and keeping
-- the index cost an index page written per ticket event in every group commit.
DROP INDEX IF EXISTS events_ticket;
