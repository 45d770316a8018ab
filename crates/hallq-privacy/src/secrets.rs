//! Secrets kept as hashes, never as such: tokens as SHA-256 (they are long and random), PINs as
//! argon2 (they are short), and fresh tokens from the operating system. The hall and the hub
//! both check their callers with these.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sha2::{Digest, Sha256};

pub use crate::to_hex;

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

/// An unguessable token: 128 random bits as 32 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator does not fail on Linux after boot; if it ever did, refusing to go on
    // is the only safe answer.
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    to_hex(&bytes)
}
