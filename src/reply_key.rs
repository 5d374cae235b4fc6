//! The secret reply key of a form: how it is made, written and found again.
//!
//! Owns the whole contract: 128 random bits as 26 lowercase base32
//! characters (`a-z2-7`), carried only in the form's reply address
//! (`reflect+<key>@<domain>`) and read back from a reply's recipients. Never
//! in a Message-ID: clients copy those into every reply and forward, so
//! every message sent gets a [`random_message_id`] unrelated to any key
//! (the store records each form's, so a reply's thread still finds its
//! form). Pure: randomness comes in
//! through [`Entropy`], so tests are deterministic and the OS source stays
//! at the edge (`engine::OsEntropy`). Never logs a key.

/// Length of a reply key in characters.
pub const KEY_LEN: usize = 26;

/// A source of random bytes for keys and one-time codes.
pub trait Entropy {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError>;
}

/// The random source failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot make a secret reply key: the system's random source failed ({0}); check /dev/urandom"
)]
pub struct EntropyError(pub String);

/// Deterministic bytes (a counter through a mixing function), for tests
/// and simulations only: never for a real deployment's keys.
#[derive(Debug, Default)]
pub struct SeededEntropy {
    state: std::sync::atomic::AtomicU64,
}

impl SeededEntropy {
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy {
            state: std::sync::atomic::AtomicU64::new(seed),
        }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        for chunk in buf.chunks_mut(8) {
            let n = self
                .state
                .fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
            let mut x = n;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^= x >> 31;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A new secret key: 128 random bits, base32.
pub fn generate(entropy: &dyn Entropy) -> Result<String, EntropyError> {
    let mut bytes = [0u8; 16];
    entropy.fill(&mut bytes)?;
    Ok(base32(&bytes))
}

/// Whether `s` has the shape of a key (it may still be unknown).
pub fn is_key(s: &str) -> bool {
    s.len() == KEY_LEN && s.bytes().all(is_key_char)
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)
}

/// RFC 4648 base32, lowercase, without padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The domain of an address (`example.org` of `pulse@example.org`).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

/// `reflect+<key>@<domain>` for a service address such as `pulse@example.org`.
pub fn reply_address(service_address: &str, key: &str) -> String {
    format!("reflect+{key}@{}", domain_of(service_address))
}

/// A fresh Message-ID (without angle brackets): 128 random bits of its
/// own, `<random>@<domain>`, unrelated to any reply key.
pub fn random_message_id(
    entropy: &dyn Entropy,
    service_address: &str,
) -> Result<String, EntropyError> {
    Ok(format!(
        "{}@{}",
        generate(entropy)?,
        domain_of(service_address)
    ))
}

/// Reply keys in `<anything>+<KEY>@<domain>` addresses found in a header value.
pub fn keys_in_recipients(value: &str, domain: &str) -> Vec<String> {
    let lower = value.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut keys = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find('@').map(|p| p + from) {
        from = at + 1;
        let after = &lower[at + 1..];
        let domain_ok = after.starts_with(domain)
            && after[domain.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if !domain_ok || at < KEY_LEN + 1 {
            continue;
        }
        let start = at - KEY_LEN;
        if bytes[start - 1] == b'+' && bytes[start..at].iter().all(|&b| is_key_char(b)) {
            keys.push(lower[start..at].to_string());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_26_base32_chars_and_differ() {
        let e = SeededEntropy::new(7);
        let a = generate(&e).unwrap();
        let b = generate(&e).unwrap();
        assert_eq!(a.len(), KEY_LEN);
        assert!(is_key(&a) && is_key(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn the_same_seed_gives_the_same_keys() {
        let a = generate(&SeededEntropy::new(42)).unwrap();
        let b = generate(&SeededEntropy::new(42)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, generate(&SeededEntropy::new(43)).unwrap());
    }

    #[test]
    fn base32_matches_rfc4648_lowercase() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn a_key_written_into_an_address_is_found_again() {
        let k = generate(&SeededEntropy::new(1)).unwrap();
        let addr = reply_address("pulse@example.org", &k);
        assert_eq!(
            keys_in_recipients(&format!("Pulse <{addr}>"), "example.org"),
            vec![k.clone()]
        );
        assert_eq!(
            keys_in_recipients(&addr.to_ascii_uppercase(), "example.org"),
            vec![k.clone()]
        );
        assert!(
            keys_in_recipients(&format!("x+{k}@example.org.evil.com"), "example.org").is_empty()
        );
        assert!(keys_in_recipients(&format!("x+{k}@evil.com"), "example.org").is_empty());
        assert!(keys_in_recipients("a@example.org", "example.org").is_empty());
    }

    #[test]
    fn message_ids_are_random_and_carry_no_key() {
        let e = SeededEntropy::new(2);
        let k = generate(&e).unwrap();
        let a = random_message_id(&e, "pulse@example.org").unwrap();
        let b = random_message_id(&e, "pulse@example.org").unwrap();
        assert_ne!(a, b);
        assert!(a.ends_with("@example.org"));
        assert!(!a.contains(&k) && !b.contains(&k));
    }
}
