//! 好差评 in the hall: which visits may be rated, what a rating or complaint causes (a case
//! with due dates on the holiday calendar), how managers move cases on, and the default rating
//! once a visit's rating time is over.

use super::{Hall, Outcome};
use crate::contact::Contact;
use crate::error::DomainError;
use crate::event::Event;
use crate::feedback::{
    Case, CaseAction, CaseSource, CaseStatus, Rating, RatingChannel, RatingLevel, Visit,
    COMMENT_MAX_CHARS, REASONS_MAX,
};
use crate::ids::{ServiceId, TicketId, WindowId};
use jiff::{SignedDuration, Timestamp};

/// Cleans a free text: trimmed, at most `COMMENT_MAX_CHARS` characters, `None` when empty.
fn clean_text(text: &Option<String>) -> Option<String> {
    let trimmed = text.as_deref()?.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(trimmed.chars().take(COMMENT_MAX_CHARS).collect())
}

impl Hall {
    /// The instant until which a visit completed at `completed_at` may be rated.
    pub(super) fn rate_by(&self, completed_at: Timestamp) -> Timestamp {
        let days = i64::from(self.spec.ratings.rate_within_days);
        completed_at
            .checked_add(SignedDuration::from_hours(days * 24))
            .unwrap_or(completed_at)
    }

    /// A visit rateable now or awaiting its follow-up, by ticket.
    pub fn visit(&self, ticket: TicketId) -> Option<&Visit> {
        self.visits.get(&ticket)
    }

    /// Visits the hall holds (rateable, or awaiting a follow-up), by ticket.
    pub fn visits(&self) -> impl Iterator<Item = &Visit> {
        self.visits.values()
    }

    /// The newest visit whose ticket carries `number` (A001 …): the kiosk rates by number.
    pub fn visit_by_number(&self, number: &str) -> Option<&Visit> {
        self.visits
            .values()
            .filter(|visit| visit.number.eq_ignore_ascii_case(number))
            .max_by_key(|visit| visit.completed_at)
    }

    /// Open cases, and cases closed since the day began, by id.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.values()
    }

    pub fn case(&self, id: u64) -> Option<&Case> {
        self.cases.get(&id)
    }

    pub fn last_case_id(&self) -> u64 {
        self.last_case_id
    }

    fn check_reasons(&self, level: RatingLevel, reasons: &[String]) -> Result<(), DomainError> {
        if reasons.len() > REASONS_MAX {
            return Err(DomainError::UnknownReason(format!(
                "at most {REASONS_MAX} reasons"
            )));
        }
        let offered = self.spec.ratings.reasons_for(level);
        match reasons.iter().find(|reason| !offered.contains(reason)) {
            Some(unknown) => Err(DomainError::UnknownReason(
                unknown.chars().take(40).collect(),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn decide_rating(
        &self,
        ticket: TicketId,
        level: RatingLevel,
        reasons: &[String],
        comment: &Option<String>,
        channel: RatingChannel,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let Some(visit) = self.visits.get(&ticket) else {
            // Today's ticket not completed (or no longer rateable), or no such ticket.
            return Err(if self.tickets.contains_key(&ticket) {
                DomainError::NotRateable(ticket)
            } else {
                DomainError::UnknownTicket(ticket)
            });
        };
        self.check_reasons(level, reasons)?;
        let mut reasons = reasons.to_vec();
        reasons.dedup();
        let rating = Rating {
            level,
            reasons,
            comment: clean_text(comment),
            channel,
            at: now,
        };
        let round = match (&visit.rating, &visit.follow_up) {
            (None, _) if now > visit.rate_by => return Err(DomainError::RatingPeriodOver(ticket)),
            (None, _) => 1,
            (Some(first), None) if first.level.is_bad() => {
                let rectified = visit
                    .case
                    .and_then(|id| self.cases.get(&id))
                    .is_some_and(|case| {
                        matches!(case.status, CaseStatus::Rectified | CaseStatus::FedBack)
                    });
                if !rectified {
                    return Err(DomainError::FollowUpNotOpen(ticket));
                }
                2
            }
            _ => return Err(DomainError::AlreadyRated(ticket)),
        };
        let mut events = vec![self.rated(visit, round, rating)];
        if round == 1 && level.is_bad() {
            let source = CaseSource::BadRating {
                ticket,
                number: visit.number.clone(),
                level,
            };
            let case = self.new_case(
                source,
                channel,
                Some((&visit.service, &visit.window)),
                visit.staff.clone(),
                now,
            );
            events.push(Event::CaseOpened { case });
        }
        Ok(Outcome {
            events,
            ticket: None,
        })
    }

    fn rated(&self, visit: &Visit, round: u8, rating: Rating) -> Event {
        Event::ServiceRated {
            ticket: visit.ticket,
            number: visit.number.clone(),
            service: visit.service.clone(),
            window: visit.window.clone(),
            staff: visit.staff.clone(),
            department: self.department_of(Some((&visit.service, &visit.window))),
            day: self.service_day_of(visit.completed_at),
            round,
            rating,
        }
    }

    /// The department answerable for a visit: the window's if configured (一窗受理 windows
    /// serve several departments and usually name none), else the service's; the complaints
    /// department when nothing was served.
    pub fn department_of(&self, served: Option<(&ServiceId, &WindowId)>) -> String {
        let window_department = served
            .and_then(|(_, window)| self.window_index.get(window))
            .and_then(|&index| self.spec.windows[index].department.clone());
        let service_department = served
            .and_then(|(service, _)| self.service_index.get(service))
            .map(|&index| self.spec.services[index].department.clone());
        window_department
            .or(service_department)
            .unwrap_or_else(|| self.spec.ratings.complaints_department.clone())
    }

    /// Visits forgotten at the last start of a day (their rows are closed by the store).
    pub fn last_pruned_visits(&self) -> &[TicketId] {
        &self.last_pruned_visits
    }

    /// A new case with its due dates counted in working days from today on the hall's calendar.
    fn new_case(
        &self,
        source: CaseSource,
        channel: RatingChannel,
        served: Option<(&ServiceId, &WindowId)>,
        staff: Option<String>,
        now: Timestamp,
    ) -> Case {
        let policy = &self.spec.ratings;
        let today = self.service_day_of(now);
        Case {
            id: self.last_case_id + 1,
            source,
            channel,
            department: self.department_of(served),
            service: served.map(|(service, _)| service.clone()),
            window: served.map(|(_, window)| window.clone()),
            staff,
            opened_at: now,
            callback_due: self
                .spec
                .calendar
                .working_days_after(today, policy.callback_working_days),
            due: self
                .spec
                .calendar
                .working_days_after(today, policy.rectify_working_days),
            status: CaseStatus::Open,
            called_back_at: None,
            fed_back_at: None,
            closed_at: None,
            appealed_from: None,
            voided: false,
            notes: Vec::new(),
        }
    }

    pub(super) fn decide_complaint(
        &self,
        category: &str,
        text: &str,
        contact: &Option<Contact>,
        ticket: Option<TicketId>,
        channel: RatingChannel,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        if !self
            .spec
            .ratings
            .complaint_categories
            .iter()
            .any(|known| known == category)
        {
            return Err(DomainError::UnknownComplaintCategory(
                category.chars().take(40).collect(),
            ));
        }
        // The visit (or today's ticket) the complaint is about, for the department.
        let served = ticket.and_then(|id| match self.visits.get(&id) {
            Some(visit) => Some((
                visit.service.clone(),
                visit.window.clone(),
                visit.staff.clone(),
            )),
            None => self
                .tickets
                .get(&id)
                .and_then(|t| Some((t.service.clone(), t.window.clone()?, None))),
        });
        let source = CaseSource::Complaint {
            category: category.to_owned(),
            text: clean_text(&Some(text.to_owned())).unwrap_or_default(),
            contact: contact.clone(),
            ticket,
        };
        let case = self.new_case(
            source,
            channel,
            served
                .as_ref()
                .map(|(service, window, _)| (service, window)),
            served.as_ref().and_then(|(_, _, staff)| staff.clone()),
            now,
        );
        Ok(Outcome {
            events: vec![Event::CaseOpened { case }],
            ticket: None,
        })
    }

    pub(super) fn decide_case_action(
        &self,
        id: u64,
        action: CaseAction,
        note: &Option<String>,
        by: &str,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let case = self.cases.get(&id).ok_or(DomainError::UnknownCase(id))?;
        let status = case
            .next_status(action)
            .ok_or(DomainError::CaseActionNotAllowed {
                case: id,
                status: case.status,
                action: action.as_str(),
            })?;
        Ok(Outcome {
            events: vec![Event::CaseProgressed {
                case: id,
                action,
                status,
                note: clean_text(note),
                by: by.to_owned(),
                at: now,
            }],
            ticket: None,
        })
    }

    /// The default ratings due at `now`: visits nobody rated within the configured time get
    /// the locality's default level (channel `system_default`). Cheap when none is due.
    pub(super) fn default_ratings_due(&self, now: Timestamp) -> Vec<Event> {
        let Some(level) = self.spec.ratings.default_level else {
            return Vec::new();
        };
        self.rating_deadlines
            .iter()
            .take_while(|(rate_by, _)| *rate_by < now)
            .filter_map(|(_, ticket)| self.visits.get(ticket))
            .filter(|visit| visit.rating.is_none())
            .map(|visit| {
                self.rated(
                    visit,
                    1,
                    Rating {
                        level,
                        reasons: Vec::new(),
                        comment: None,
                        channel: RatingChannel::SystemDefault,
                        at: now,
                    },
                )
            })
            .collect()
    }

    /// Folds the rating events in.
    pub(super) fn evolve_rating(&mut self, event: &Event) {
        match event {
            Event::TicketCompleted {
                ticket,
                number,
                service,
                window,
                at,
                staff,
                ..
            } => {
                let rate_by = self.rate_by(*at);
                self.visits.insert(
                    *ticket,
                    Visit {
                        ticket: *ticket,
                        number: number.clone(),
                        service: service.clone(),
                        window: window.clone(),
                        staff: staff.clone(),
                        completed_at: *at,
                        rate_by,
                        rating: None,
                        follow_up: None,
                        case: None,
                    },
                );
                self.rating_deadlines.insert((rate_by, *ticket));
            }
            Event::ServiceRated {
                ticket,
                round,
                rating,
                ..
            } => {
                if let Some(visit) = self.visits.get_mut(ticket) {
                    if *round >= 2 {
                        visit.follow_up = Some(rating.clone());
                    } else {
                        self.rating_deadlines.remove(&(visit.rate_by, *ticket));
                        visit.rating = Some(rating.clone());
                    }
                }
            }
            Event::CaseOpened { case } => {
                self.last_case_id = self.last_case_id.max(case.id);
                if let CaseSource::BadRating { ticket, .. } = &case.source {
                    if let Some(visit) = self.visits.get_mut(ticket) {
                        visit.case = Some(case.id);
                    }
                }
                self.cases.insert(case.id, case.clone());
            }
            Event::CaseProgressed {
                case,
                action,
                status,
                note,
                by,
                at,
            } => {
                if let Some(found) = self.cases.get_mut(case) {
                    found.apply(*action, *status, note, by, *at);
                }
            }
            Event::ServiceDayStarted { at, .. } => self.prune_ratings(*at),
            _ => {}
        }
    }

    /// At the start of a day: forgets visits that can no longer be rated nor followed up, and
    /// cases closed before today.
    fn prune_ratings(&mut self, now: Timestamp) {
        let cases = &self.cases;
        let case_closed = |visit: &Visit| {
            visit
                .case
                .and_then(|id| cases.get(&id))
                .is_none_or(Case::is_closed)
        };
        let mut stale: Vec<TicketId> = self
            .visits
            .values()
            .filter(|visit| visit.rate_by <= now && !visit.is_open(case_closed(visit)))
            .map(|visit| visit.ticket)
            .collect();
        for ticket in &stale {
            if let Some(visit) = self.visits.remove(ticket) {
                self.rating_deadlines.remove(&(visit.rate_by, *ticket));
            }
        }
        // Unrated visits past their time when no default applies.
        let lapsed: Vec<(Timestamp, TicketId)> = self
            .rating_deadlines
            .iter()
            .take_while(|(rate_by, _)| *rate_by < now)
            .copied()
            .collect();
        for key in lapsed {
            self.rating_deadlines.remove(&key);
            self.visits.remove(&key.1);
            stale.push(key.1);
        }
        // Replaced, not appended: bounded by one day's visits.
        self.last_pruned_visits = stale;
        self.cases.retain(|_, case| !case.is_closed());
    }
}
