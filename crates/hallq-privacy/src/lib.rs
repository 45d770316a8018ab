//! Citizens' numbers as the hall (and the city's hub) keeps them: never as such. A phone (or ID) number becomes a
//! `Contact` — a keyed hash for matching (HMAC-SHA-256 under the hall's secret), the number
//! sealed for the one follower that must dial it (XChaCha20-Poly1305 under a second secret),
//! and a masked form for staff.
//!
//! The secrets live in `secret.key` in the data directory, made at the first start (mode 0600),
//! never in the database: a copy of the database alone reveals no number. Back the key up with
//! the database (`hallq backup` does); without it sealed numbers cannot be read again, though
//! nothing else is lost.

pub mod limits;
pub mod phone_checks;
pub mod secrets;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hallq_core::Contact;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret.key";
const KEY_BYTES: usize = 64;

pub struct Privacy {
    matching: [u8; 32],
    sealing: XChaCha20Poly1305,
}

impl std::fmt::Debug for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Privacy(..)")
    }
}

/// What the number is, for keys: a phone and an ID card with the same digits never match.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Phone,
    IdCard,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Kind::Phone => b"phone:",
            Kind::IdCard => b"id-card:",
        }
    }
}

impl Privacy {
    /// Reads the hall's key from the data directory, or makes one at the first start.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; KEY_BYTES];
                getrandom::getrandom(&mut bytes).map_err(std::io::Error::other)?;
                write_private(&path, &bytes)?;
                bytes
            }
            Err(error) => return Err(error),
        };
        Self::from_bytes(&bytes).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not a hallq key ({} bytes instead of {KEY_BYTES}): restore it from the \
                     backup taken with the database",
                    path.display(),
                    bytes.len()
                ),
            )
        })
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_BYTES {
            return None;
        }
        let mut matching = [0u8; 32];
        matching.copy_from_slice(&bytes[..32]);
        let sealing = XChaCha20Poly1305::new_from_slice(&bytes[32..]).ok()?;
        Some(Self { matching, sealing })
    }

    /// The keyed hash of a number: equal numbers, equal keys. 32 hex digits.
    pub fn match_key(&self, kind: Kind, number: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.matching)
            .expect("HMAC takes a key of any length");
        mac.update(kind.label());
        mac.update(number.as_bytes());
        to_hex(&mac.finalize().into_bytes()[..16])
    }

    /// Seals a text: 24 bytes of random nonce and the ciphertext, as hex.
    pub fn seal(&self, text: &str) -> String {
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).expect("the operating system's random generator failed");
        let sealed = self
            .sealing
            .encrypt(XNonce::from_slice(&nonce), text.as_bytes())
            .expect("sealing a short text cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        to_hex(&bytes)
    }

    /// Opens what `seal` made; `None` when it was sealed under another key or damaged.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = from_hex(sealed)?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let text = self
            .sealing
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .ok()?;
        String::from_utf8(text).ok()
    }

    /// A phone number as the hall keeps it.
    pub fn phone(&self, phone: &str) -> Contact {
        Contact {
            key: self.match_key(Kind::Phone, phone),
            sealed: Some(self.seal(phone)),
            masked: mask_phone(phone),
        }
    }

    /// A resident ID number as the hall keeps it: the keyed hash (limits, check-in by card)
    /// and the mask (the staff console); nothing sealed, since nobody needs it back.
    /// Lower-case `x` is the same check character as `X`.
    pub fn id_card(&self, number: &str) -> Contact {
        let number = number.trim().to_ascii_uppercase();
        debug_assert!(
            is_valid_id_number(&number),
            "check it with `id_number` first"
        );
        Contact {
            key: self.match_key(Kind::IdCard, &number),
            sealed: None,
            masked: mask_id_number(&number),
        }
    }
}

/// The first four and the last four characters of an ID number, the rest `*`:
/// `1101**********002X`.
pub fn mask_id_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let last = chars.len() - 4;
    chars
        .iter()
        .enumerate()
        .map(|(index, c)| if index < 4 || index >= last { *c } else { '*' })
        .collect()
}

/// An ID number as people type it (spaces around, a lower-case `x`), in its one form —
/// trimmed, upper-case — when it is a well-formed number with the right check character.
pub fn id_number(typed: &str) -> Option<String> {
    let number = typed.trim().to_ascii_uppercase();
    is_valid_id_number(&number).then_some(number)
}

/// Whether `number` is a well-formed 18-character resident ID number with the right check
/// character (GB 11643: weights 2^(17-i) mod 11, the remainder mapped to 1 0 X 9 8 7 6 5 4 3 2).
pub fn is_valid_id_number(number: &str) -> bool {
    let bytes = number.as_bytes();
    bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && check_character(&number[..17]) == Some(bytes[17].to_ascii_uppercase() as char)
}

/// The check character of the first 17 digits of an ID number.
pub fn check_character(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECKS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (digit, weight) in first17.chars().zip(WEIGHTS) {
        sum += digit.to_digit(10)? * weight;
    }
    Some(CHECKS[(sum % 11) as usize])
}

/// `138****8000`: enough for staff to confirm a number with the citizen.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A mainland China mobile number: 11 digits starting 13–19.
pub fn is_mobile_number(phone: &str) -> bool {
    phone.len() == 11
        && phone.bytes().all(|b| b.is_ascii_digit())
        && phone.starts_with('1')
        && matches!(phone.as_bytes()[1], b'3'..=b'9')
}

/// Lower-case hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

/// Writes a file only its owner can read, without ever leaving it readable by others.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_by_key_and_open_only_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = Privacy::load_or_create(dir.path()).unwrap();
        let first = privacy.phone("13800138000");
        let second = privacy.phone("13800138000");
        assert_eq!(first.key, second.key);
        assert_ne!(first.sealed, second.sealed, "a fresh nonce each time");
        assert_eq!(first.masked, "138****8000");
        assert!(!first.key.contains("138") && first.key.len() == 32);
        assert_eq!(
            privacy.open(first.sealed.as_deref().unwrap()).as_deref(),
            Some("13800138000")
        );
        assert_ne!(
            privacy.match_key(Kind::Phone, "110101199003077777"),
            privacy.match_key(Kind::IdCard, "110101199003077777")
        );
        // The same key file, the same hall; another key opens nothing.
        let again = Privacy::load_or_create(dir.path()).unwrap();
        assert_eq!(again.phone("13800138000").key, first.key);
        let other = Privacy::from_bytes(&[7u8; KEY_BYTES]).unwrap();
        assert_eq!(other.open(first.sealed.as_deref().unwrap()), None);
        assert_eq!(other.open("zz"), None);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
