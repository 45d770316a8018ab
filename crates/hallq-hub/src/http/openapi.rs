//! The hub's API description, served at `/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "hallq-hub", description = "The city hub: halls' logs and waits, online and SMS booking, calendars, the city's view. The hall side of the protocol: docs/upstream-protocol.md."),
    paths(
        super::halls::summary, super::halls::push_events, super::halls::push_snapshot,
        super::halls::put_profile, super::halls::list,
        super::appointments::slots, super::appointments::book, super::appointments::get,
        super::appointments::cancel, super::appointments::feed, super::appointments::acknowledge,
        super::citizens::halls, super::citizens::days, super::citizens::phone_check,
        super::citizens::book, super::citizens::cancel, super::citizens::inbound_sms,
        super::city::view, super::city::events, super::city::report, super::city::evaluations,
        super::calendars::years, super::calendars::year, super::calendars::put_year,
        super::sessions::sign_in, super::health::healthz, super::health::readyz, super::health::metrics,
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
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
    HttpResponse::Ok().json(ApiDoc::openapi())
}
