//! The API's description, served at `/api/v1/openapi.json`.

use super::error::ErrorBody;
use super::{
    appointments, devices, hall, health, public, ratings, sessions, settings, streams, tickets,
    windows,
};
use actix_web::HttpResponse;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "hallq", description = "Queue and appointment daemon of a government service hall"),
    paths(hall::hall, hall::queues, hall::stats_today, hall::audit, hall::sync, tickets::issue_ticket, tickets::get_ticket, tickets::cancel_ticket, tickets::cancel_by_token, tickets::reprint_ticket,
        devices::devices, windows::get_window, windows::window_action, windows::waiting, settings::notice, settings::set_notice, settings::set_wait_alarm, sessions::sign_in, sessions::sign_out,
        streams::events, streams::board_events, streams::ticket_events, streams::kiosk_events, public::board, public::ticket_by_token, public::calendar_day, public::alerts_view, public::list,
        appointments::slots, appointments::book, appointments::phone_check, appointments::get, appointments::cancel,
        appointments::check_in_by_code, appointments::check_in_by_phone, appointments::check_in_by_card,
        ratings::rate, ratings::complain, ratings::options, ratings::visit, ratings::pad, ratings::cases, ratings::case,
        ratings::case_action, ratings::figures, ratings::figures_csv, health::healthz, health::readyz, health::metrics),
    components(schemas(ErrorBody, super::error::ErrorDetail, tickets::IssueRequest, windows::TransferRequest, windows::RequeueRequest, windows::CallRequest, windows::WaitingList, windows::WaitingEntry, windows::ServingTicket, appointments::CardCheckIn, crate::followers::id_readers::IdReaderView, settings::NoticeRequest, settings::NoticeView, settings::WaitAlarmRequest, settings::WaitAlarmView, sessions::SignInRequest,
        ratings::RatingRequest, ratings::ComplaintRequest, ratings::CaseActionRequest, ratings::TicketRef)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn openapi() -> HttpResponse {
    use utoipa::OpenApi;
    HttpResponse::Ok().json(ApiDoc::openapi())
}
