//! What leaves the hall: each event of the log without the citizen's personal data. The hub
//! needs counts, times, services and windows; it never needs a phone (not even sealed or as a
//! keyed hash: the key is the hall's), a name, a ticket's token (the citizen's page) or a hall
//! booking code whole. The hub's own booking codes stay whole: the hub matches them.

use hallq_core::Event;
use serde_json::Value;

/// An event of the hall's log as it goes upstream.
pub fn upstream_event(seq: u64, event: &Event) -> crate::PushedEvent {
    let mut data = serde_json::to_value(event).unwrap_or(Value::Null);
    personal_fields_removed(&mut data);
    crate::PushedEvent {
        seq,
        kind: event.kind().to_owned(),
        at_ms: event.at().as_millisecond(),
        data,
    }
}

/// Removes personal fields anywhere in an event's JSON: a contact keeps only its masked form
/// (`138****8000`), ID cards, tokens, sealed names and idempotency keys go, and a hall booking
/// code is masked.
pub fn personal_fields_removed(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("token");
            map.remove("name_sealed");
            map.remove("idempotency_key");
            map.remove("sealed");
            // A card's keyed hash is the hall's (its key), and its mask is for the hall's
            // console: neither leaves the hall.
            map.remove("id_card");
            if let Some(Value::Object(contact)) = map.get_mut("contact") {
                contact.retain(|key, _| key == "masked");
            }
            if let Some(Value::String(code)) = map.get_mut("code") {
                if !crate::is_hub_code(code) {
                    *code = hallq_core::mask_code(code);
                }
            }
            for child in map.values_mut() {
                personal_fields_removed(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(personal_fields_removed),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ticket_and_a_booking_leave_without_their_personal_data() {
        let mut issued = json!({
            "kind": "ticket_issued",
            "ticket": {
                "id": 7, "number": "A007", "token": "0123456789abcdef",
                "idempotency_key": "touch-1",
                "contact": {"key": "hmac", "sealed": "sealed", "masked": "138****8000"},
                "id_card": {"key": "id-hmac", "masked": "1101**********002X"},
                "kiosk": "k1"
            }
        });
        personal_fields_removed(&mut issued);
        assert_eq!(
            issued,
            json!({
                "kind": "ticket_issued",
                "ticket": {"id": 7, "number": "A007", "contact": {"masked": "138****8000"}, "kiosk": "k1"}
            })
        );
        let mut booked = json!({
            "kind": "appointment_booked",
            "appointment": {"code": "27KQ9PXM", "name_sealed": "x",
                "contact": {"key": "hmac", "masked": "139****0001"},
                "id_card": {"key": "id-hmac", "masked": "1101**********002X"}}
        });
        personal_fields_removed(&mut booked);
        assert_eq!(booked["appointment"]["code"], "27****XM");
        assert!(booked["appointment"].get("name_sealed").is_none());
        assert!(booked["appointment"].get("id_card").is_none());
        // The hub's own codes are what the hub matches: they stay whole.
        let mut cancelled = json!({"kind": "appointment_cancelled", "code": "WK7Q2M9P"});
        personal_fields_removed(&mut cancelled);
        assert_eq!(cancelled["code"], "WK7Q2M9P");
    }

    #[test]
    fn hub_codes_start_with_a_letter() {
        assert!(is_hub_code("WK7Q2M9P"));
        assert!(!is_hub_code("27KQ9PXM"));
        assert!(!is_hub_code("WK7Q"));
        assert!(!is_hub_code("wk7q2m9p"));
    }

    use crate::is_hub_code;
}
