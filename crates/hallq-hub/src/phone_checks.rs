//! Codes that confirm a citizen's phone before the hub books with it: six digits by SMS, valid
//! for five minutes, single use, five tries; one code a minute and five an hour per phone. Kept in
//! PostgreSQL (by the phone's keyed hash, the code as SHA-256), so that any hub process can
//! confirm a code another one sent.

use crate::http::error::HubError;
use crate::state::HubState;
use actix_web::http::StatusCode;
use hallq_privacy::secrets::hash_token;

const VALID_MINUTES: f64 = 5.0;
const TRIES: i32 = 5;
const PER_HOUR: i32 = 5;

fn six_digits() -> String {
    let mut bytes = [0u8; 4];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000)
}

/// Makes a code for `phone` and sends it; the code itself is never returned.
pub async fn send_code(state: &HubState, phone: &str) -> Result<(), HubError> {
    let Some(gateway) = &state.sms else {
        return Err(HubError::conflict(
            "phone_check_unavailable",
            "this hub has no SMS gateway, so phones cannot be confirmed; book at the hall",
        ));
    };
    let key = state.privacy.match_key(hallq_privacy::Kind::Phone, phone);
    let code = six_digits();
    let client = state.pool.get().await?;
    // One statement decides: a new row, or an update allowed by the per-minute and per-hour
    // limits; nothing comes back when the limits say no.
    let allowed = client
        .query_opt(
            "INSERT INTO phone_checks AS p (phone_key, code_sha256, sent_at, expires_at, hour_started)
             VALUES ($1, $2, now(), now() + $3::float8 * interval '1 minute', now())
             ON CONFLICT (phone_key) DO UPDATE SET
                 code_sha256 = EXCLUDED.code_sha256, sent_at = now(),
                 expires_at = EXCLUDED.expires_at, attempts = 0,
                 sent_this_hour = CASE WHEN p.hour_started < now() - interval '1 hour'
                                       THEN 1 ELSE p.sent_this_hour + 1 END,
                 hour_started = CASE WHEN p.hour_started < now() - interval '1 hour'
                                     THEN now() ELSE p.hour_started END
             WHERE p.sent_at < now() - interval '1 minute'
               AND (p.sent_this_hour < $4 OR p.hour_started < now() - interval '1 hour')
             RETURNING 1",
            &[&key, &hash_token(&code), &VALID_MINUTES, &PER_HOUR],
        )
        .await?
        .is_some();
    if !allowed {
        return Err(HubError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "phone_check_too_soon",
            "a code was sent to this phone a moment ago: wait a minute (at most five an hour)",
        ));
    }
    let text = format!("【政务服务预约】验证码 {code}，5分钟内有效。请勿告诉他人。");
    if !gateway.send(phone, &text, "phone_check").await {
        return Err(HubError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_unavailable",
            "the code could not be sent now; try again in a minute",
        ));
    }
    Ok(())
}

/// Checks (and uses up) the code sent to `phone`.
pub async fn confirm(state: &HubState, phone: &str, code: &str) -> Result<(), HubError> {
    let key = state.privacy.match_key(hallq_privacy::Kind::Phone, phone);
    let wrong = || {
        HubError::unprocessable(
            "phone_code_wrong",
            "the code is wrong or has expired: ask for a new one",
        )
    };
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "UPDATE phone_checks SET attempts = attempts + 1
             WHERE phone_key = $1 AND expires_at > now() AND attempts < $2
             RETURNING code_sha256",
            &[&key, &TRIES],
        )
        .await?
        .ok_or_else(wrong)?;
    let expected: String = row.get(0);
    if expected != hash_token(code.trim()) {
        return Err(wrong());
    }
    client
        .execute("DELETE FROM phone_checks WHERE phone_key = $1", &[&key])
        .await?;
    Ok(())
}
