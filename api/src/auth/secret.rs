//! Secret material: random tokens and the one-way hashes stored in their place.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// `bytes` random bytes from the operating system, base64url without padding.
pub fn random(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buffer)?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// Lower-case hex SHA-256 of `data`: how secrets are stored and records chained.
pub fn sha256_hex(data: &[u8]) -> String {
    digest(&SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn random_secrets_differ() {
        let (a, b) = (random(32).expect("random"), random(32).expect("random"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
