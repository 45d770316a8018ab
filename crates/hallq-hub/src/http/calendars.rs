//! The holiday files: public to read (a hall fetches the years it lacks), managers upload them.

use super::error::HubError;
use super::Data;
use crate::auth;
use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_protocol::CalendarYears;

/// `GET /v1/calendars`: the years the hub has.
#[utoipa::path(get, path = "/v1/calendars", tag = "calendars",
    responses((status = 200, description = "{\"years\": [2026]}")))]
pub async fn years(state: Data) -> Result<web::Json<CalendarYears>, HubError> {
    let client = state.pool.get().await?;
    let years = client
        .query("SELECT year FROM calendars ORDER BY year", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(web::Json(CalendarYears { years }))
}

fn year_of(text: &str) -> Result<i16, HubError> {
    text.parse::<i16>()
        .ok()
        .filter(|year| (2000..=2100).contains(year))
        .ok_or_else(|| HubError::bad_request("invalid_year", "a year between 2000 and 2100"))
}

/// `GET /v1/calendars/{year}`: the year's file as it was given (holiday-cn layout).
#[utoipa::path(get, path = "/v1/calendars/{year}", tag = "calendars", params(("year" = String, Path)),
    responses((status = 200, description = "the holiday-cn file"), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn year(state: Data, path: web::Path<String>) -> Result<HttpResponse, HubError> {
    let year = year_of(&path.into_inner())?;
    let client = state.pool.get().await?;
    let file: String = client
        .query_opt("SELECT file FROM calendars WHERE year = $1", &[&year])
        .await?
        .ok_or_else(|| HubError::not_found(format!("the hub has no calendar for {year}")))?
        .get(0);
    Ok(HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(file))
}

/// `PUT /v1/calendars/{year}` (managers): a year's file, checked as every hall checks it.
#[utoipa::path(put, path = "/v1/calendars/{year}", tag = "calendars", security(("bearer" = [])), params(("year" = String, Path)),
    request_body(content = String, description = "the holiday-cn file"),
    responses((status = 204), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)))]
pub async fn put_year(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HubError> {
    auth::manager(&request, &state).await?;
    let year = year_of(&path.into_inner())?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| HubError::bad_request("invalid_body", "the file is not UTF-8 text"))?;
    store_year(&state, year, text).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks and stores a year's file, then refreshes the hub's calendar.
pub async fn store_year(
    state: &crate::state::HubState,
    year: i16,
    text: &str,
) -> Result<(), HubError> {
    let (parsed, _) = hallq_protocol::parse_calendar_file(text).map_err(|e| {
        HubError::bad_request(
            "invalid_calendar",
            format!(
                "{} (line {}): {}",
                e.key,
                e.line.map_or("?".into(), |l| l.to_string()),
                e.message
            ),
        )
    })?;
    if parsed != year {
        return Err(HubError::bad_request(
            "invalid_calendar",
            format!("the file is for {parsed}, not {year}"),
        ));
    }
    let client = state.pool.get().await?;
    client
        .execute(
            "INSERT INTO calendars (year, file) VALUES ($1, $2)
             ON CONFLICT (year) DO UPDATE SET file = EXCLUDED.file, added_at = now()",
            &[&year, &text],
        )
        .await?;
    drop(client);
    state.reload_calendar().await?;
    Ok(())
}
