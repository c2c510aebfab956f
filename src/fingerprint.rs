//! Stable fingerprints of configurations and worlds: 64-bit FNV-1a of their canonical text, as 16
//! hex digits. Used to tell whether a resumed sweep, a cached policy or a figure's data came from
//! the same inputs (not for security). Output files are checksummed with SHA-256 (as
//! `sha256sum` prints it), so that a user can check them with standard tools.

use sha2::{Digest, Sha256};

/// FNV-1a (64 bit) of `bytes`, as 16 lowercase hex digits.
pub fn fnv1a_hex(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// SHA-256 of `bytes`, as 64 lowercase hex digits (what `sha256sum` prints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SHA-256 over bytes fed in pieces, whose digest so far can be read at any point.
#[derive(Clone, Debug, Default)]
pub struct Sha256Stream {
    hasher: Sha256,
    bytes: u64,
}

impl Sha256Stream {
    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Whether nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The SHA-256 of everything fed so far, as 64 hex digits.
    pub fn hex(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_test_vectors() {
        // The reference test vectors of FNV-1a 64.
        assert_eq!(fnv1a_hex(b""), "cbf29ce484222325");
        assert_eq!(fnv1a_hex(b"a"), "af63dc4c8601ec8c");
        assert_eq!(fnv1a_hex(b"foobar"), "85944171f73967e8");
    }

    #[test]
    fn sha256_test_vectors() {
        // FIPS 180-2 examples.
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut stream = Sha256Stream::default();
        stream.update(b"a");
        stream.update(b"bc");
        assert_eq!(stream.hex(), sha256_hex(b"abc"));
        assert_eq!(stream.len(), 3);
    }
}
