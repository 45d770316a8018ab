//! Secrets as the configuration keeps them — never the secrets themselves — and the roles
//! they grant: device tokens as SHA-256, staff PINs as argon2, fresh tokens from the OS.
//!
//! Both the configuration (which parses hashes) and authentication (which checks them) use
//! this module; it uses neither.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kiosk,
    Display,
    Staff,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Display => "display",
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

/// A secret as the configuration keeps it: never the secret itself.
#[derive(Clone)]
pub enum SecretHash {
    Sha256([u8; 32]),
    Argon2(String),
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    pub fn sha256_from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(SecretHash::Sha256(bytes))
    }

    pub fn argon2_from_phc(phc: &str) -> Option<Self> {
        PasswordHash::new(phc.trim()).ok()?;
        Some(SecretHash::Argon2(phc.trim().to_owned()))
    }

    pub fn verify(&self, secret: &str) -> bool {
        match self {
            SecretHash::Sha256(expected) => constant_time_eq(&sha256(secret), expected),
            SecretHash::Argon2(phc) => PasswordHash::new(phc)
                .map(|hash| {
                    Argon2::default()
                        .verify_password(secret.as_bytes(), &hash)
                        .is_ok()
                })
                .unwrap_or(false),
        }
    }
}

pub fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub use hallq_privacy::to_hex;

/// For `hallq hash-secret --token`: what goes into `token_sha256`.
pub fn hash_token(token: &str) -> String {
    to_hex(&sha256(token))
}

/// For `hallq hash-secret --pin`: what goes into `pin_argon2`.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the PIN: {e}"))
}

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

/// An unguessable token: 128 random bits as 32 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator does not fail on Linux after boot; if it ever did, refusing to go on
    // is the only safe answer.
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    to_hex(&bytes)
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
