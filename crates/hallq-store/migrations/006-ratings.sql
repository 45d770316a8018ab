-- 好差评: rateable visits, every rating given (the figures are counted from it), and cases.

-- A completed visit as the hall holds it; `open` while the hall must reload it after a restart
-- (rateable, or awaiting a follow-up rating).
CREATE TABLE visits (
    ticket INTEGER PRIMARY KEY,
    open INTEGER NOT NULL,
    rate_by_ms INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX visits_open ON visits (ticket) WHERE open = 1;

-- Every rating, round 1 and the follow-up (round 2). Staff cannot change or delete them: the
-- only update is `voided`, set when an appeal is upheld.
CREATE TABLE ratings (
    ticket INTEGER NOT NULL,
    round INTEGER NOT NULL,
    level INTEGER NOT NULL,        -- national code: 1 非常满意 … 5 非常不满意
    channel TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    day TEXT NOT NULL,             -- the visit's service day, YYYY-MM-DD
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    window TEXT NOT NULL,
    staff TEXT,
    department TEXT NOT NULL,
    reasons TEXT NOT NULL,         -- JSON array
    comment TEXT,
    voided INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket, round)
);
CREATE INDEX ratings_day ON ratings (day);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    ticket INTEGER,
    opened_at_ms INTEGER NOT NULL,
    opened_day TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_opened_day ON cases (opened_day);

CREATE TRIGGER ratings_are_kept BEFORE DELETE ON ratings
BEGIN
    SELECT RAISE(ABORT, 'ratings are never deleted');
END;
CREATE TRIGGER ratings_not_rewritten
BEFORE UPDATE OF ticket, round, level, channel, at_ms, day, number, service, window, staff,
    department, reasons, comment ON ratings
BEGIN
    SELECT RAISE(ABORT, 'a rating cannot be changed');
END;
