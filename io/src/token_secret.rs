//! New API token secrets, drawn here because core draws no randomness.
//!
//! Proxmox's `PVE::TokenConfig::generate_token` stores `UUID::uuid()` (libuuid's random
//! version 4 UUID, lowercase `8-4-4-4-12` hex) in `/etc/pve/priv/token.cfg`; corral makes the
//! same kind of value from 16 bytes of OpenSSL's CSPRNG. The secret is only ever compared as
//! text (pmxcfs matches the whole `<tokenid> <secret>` line), so its shape matters to people
//! and scripts, not to verification: 122 random bits either way.

/// A fresh token secret: a random (version 4, RFC 9562 variant) UUID as lowercase text, e.g.
/// `4e3c6a0e-7b1d-4c1e-9a8f-0f2b3c4d5e6f`. Fails only when OpenSSL's generator does.
pub fn new_token_secret() -> Result<String, openssl::error::ErrorStack> {
    random_uuid()
}

/// A random (version 4) UUID as lowercase text, as libuuid's `uuid_generate` makes them (also
/// the unique part of a cluster CA's name). Fails only when OpenSSL's generator does.
pub fn random_uuid() -> Result<String, openssl::error::ErrorStack> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(format_uuid_v4(bytes))
}

/// Sets the version (4: random) and variant (`10xx`) bits of `bytes` and writes them as
/// `8-4-4-4-12` lowercase hex.
fn format_uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` is a lowercase version 4 UUID.
    fn is_uuid_v4(text: &str) -> bool {
        let groups: Vec<&str> = text.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
        lengths == [8, 4, 4, 4, 12]
            && groups.iter().all(|group| {
                group
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            })
            && groups[2].starts_with('4')
            && groups[3].starts_with(['8', '9', 'a', 'b'])
    }

    #[test]
    fn fixed_bytes_format_as_a_version_4_uuid() {
        assert_eq!(
            format_uuid_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            format_uuid_v4([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        let counting: [u8; 16] = std::array::from_fn(|i| i as u8 * 0x11);
        assert_eq!(
            format_uuid_v4(counting),
            "00112233-4455-4677-8899-aabbccddeeff"
        );
    }

    #[test]
    fn new_secrets_are_random_version_4_uuids() {
        let a = new_token_secret().expect("random");
        let b = new_token_secret().expect("random");
        assert!(is_uuid_v4(&a), "{a}");
        assert!(is_uuid_v4(&b), "{b}");
        // 122 random bits each: equal only by accident.
        assert_ne!(a, b);
    }
}
