//! Secrets as the configuration keeps them — never the secrets themselves — and the roles
//! they grant: device tokens as SHA-256, staff PINs as argon2, fresh tokens from the OS (the
//! hashing itself is `hallq_privacy::secrets`, shared with the hub).
//!
//! Both the configuration (which parses hashes) and authentication (which checks them) use
//! this module; it uses neither.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kiosk,
    Display,
    /// The rating pad (评价器) at one window.
    RatingPad,
    Staff,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Display => "display",
            Role::RatingPad => "rating_pad",
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

pub use hallq_privacy::secrets::{hash_pin, hash_token, random_token, sha256, to_hex, SecretHash};

/// A ticket's status-page token: the issuing instant in milliseconds (12 hex digits), then
/// 128 random bits (32 hex digits). The random part makes it unguessable; the time prefix
/// makes tokens arrive in order, so the store's token index grows at its end instead of
/// dirtying a random page of a large index for every ticket (which made every group commit
/// write tens of pages more).
pub fn ticket_token(now: hallq_core::jiff::Timestamp) -> String {
    format!(
        "{:012x}{}",
        now.as_millisecond().clamp(0, 0xffff_ffff_ffff),
        random_token()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify() {
        let token = SecretHash::sha256_from_hex(&hash_token("demo-kiosk-token")).unwrap();
        assert!(token.verify("demo-kiosk-token"));
        assert!(!token.verify("demo-kiosk-token2"));
        let pin = SecretHash::argon2_from_phc(&hash_pin("246810").unwrap()).unwrap();
        assert!(pin.verify("246810"));
        assert!(!pin.verify("246811"));
        assert!(SecretHash::sha256_from_hex("zz").is_none());
        assert!(SecretHash::argon2_from_phc("plain").is_none());
    }

    #[test]
    fn tokens_are_unique_and_long() {
        let ticket = ticket_token(hallq_core::jiff::Timestamp::from_second(1_800_000_000).unwrap());
        assert_eq!(ticket.len(), 44);
        assert!(ticket.starts_with("01a3185c5000"), "{ticket}");
        let a = random_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_token());
    }
}
