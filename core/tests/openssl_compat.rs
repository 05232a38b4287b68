//! corral evaluates `CIPHERS` and `CIPHERSUITES` as OpenSSL 3.0 does, ordered list for ordered
//! list, except for the deliberate deviations listed below.
//!
//! The oracle is real OpenSSL output recorded by `tools/openssl-ciphers.sh` (CI does not run
//! OpenSSL):
//!
//! ```sh
//! sh tools/openssl-ciphers.sh   # rewrites fixtures/openssl-ciphers.tsv and -ciphersuites.tsv
//! ```

use corral_core::tls::{
    CiphersuiteNote, OpensslCipher, TlsError, TlsPolicy, TlsSettings, evaluate_cipher_string,
    evaluate_ciphersuites,
};

const CIPHERS_ORACLE: &str = include_str!("fixtures/openssl-ciphers.tsv");
const CIPHERSUITES_ORACLE: &str = include_str!("fixtures/openssl-ciphersuites.tsv");

/// OpenSSL's word for a value it refuses.
const REFUSED: &str = "ERROR";

/// `CIPHERSUITES` values where corral deliberately differs: value, corral's list, why.
const CIPHERSUITE_DEVIATIONS: &[(&str, &str, &str)] = &[(
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
    "TLS_AES_256_GCM_SHA384",
    "OpenSSL 3.0 looks CIPHERSUITES names up among all suites, so a TLS 1.2 IANA name is \
     accepted and that cipher is then offered first, ahead of CIPHERS. corral ignores it with \
     a warning: TLS 1.2 ciphers belong in CIPHERS.",
)];

/// The non-comment lines of a fixture, split on tabs.
fn rows(oracle: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    oracle
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split('\t').collect())
}

fn split_list(list: &str) -> Vec<&str> {
    if list.is_empty() {
        Vec::new()
    } else {
        list.split(':').collect()
    }
}

/// What `openssl ciphers -s -tls1_2` keeps on Debian (security level 2, as a client without PSK or
/// SRP keys): no anonymous, unencrypted or MD5 ciphers, no PSK or SRP ones.
fn usable_by_openssl_client(cipher: &OpensslCipher) -> bool {
    let kx = cipher.key_exchange();
    !matches!(cipher.authentication(), "None" | "PSK" | "SRP")
        && !kx.contains("PSK")
        && kx != "SRP"
        && cipher.encryption() != "None"
        && cipher.mac() != "MD5"
}

#[test]
fn cipher_strings_evaluate_to_openssls_list() {
    let mut compared = 0;
    for row in rows(CIPHERS_ORACLE) {
        let [rules, evaluated, usable] = row[..] else {
            panic!("malformed fixture row {row:?}");
        };
        let ours = evaluate_cipher_string(rules);
        if evaluated == REFUSED {
            assert!(
                ours.as_ref().map_or(true, |list| list.ciphers.is_empty()),
                "{rules:?}: OpenSSL refuses it, we give {ours:?}"
            );
            compared += 1;
            continue;
        }
        let list = match ours {
            Ok(list) => list,
            Err(error) => panic!("{rules:?}: OpenSSL accepts it, we refuse it: {error}"),
        };
        assert_eq!(
            list.names(),
            split_list(evaluated),
            "{rules:?}: evaluated list"
        );
        // A @SECLEVEL changes what -s keeps; the evaluated list above is what we model.
        if !rules.contains("@SECLEVEL") {
            let ours_usable: Vec<&str> = list
                .ciphers
                .iter()
                .filter(|cipher| usable_by_openssl_client(cipher))
                .map(|cipher| cipher.name())
                .collect();
            assert_eq!(
                ours_usable,
                split_list(usable),
                "{rules:?}: -s -tls1_2 list"
            );
        }
        compared += 1;
    }
    assert!(compared >= 100, "only {compared} cipher strings compared");
}

#[test]
fn the_policy_refuses_exactly_what_openssl_refuses() {
    for row in rows(CIPHERS_ORACLE) {
        let (rules, evaluated) = (row[0], row[1]);
        let settings = TlsSettings {
            ciphers: Some(rules),
            ..TlsSettings::default()
        };
        match (evaluated == REFUSED, TlsPolicy::from_settings(&settings)) {
            (true, Err(TlsError::InvalidCiphers { .. } | TlsError::NoCipherMatch { .. })) => {}
            (false, Ok(_) | Err(TlsError::NoUsableTls12Suite { .. })) => {}
            (refused, outcome) => {
                panic!("{rules:?}: OpenSSL refuses it: {refused}; corral: {outcome:?}")
            }
        }
    }
}

#[test]
fn ciphersuites_evaluate_to_openssls_list() {
    let mut compared = 0;
    for row in rows(CIPHERSUITES_ORACLE) {
        let [value, listed] = row[..] else {
            panic!("malformed fixture row {row:?}");
        };
        let ours = evaluate_ciphersuites(value);
        let expected = match CIPHERSUITE_DEVIATIONS
            .iter()
            .find(|(deviating, _, _)| *deviating == value)
        {
            Some((_, instead, _)) => instead,
            None if listed == REFUSED => "",
            None => listed,
        };
        assert_eq!(ours.openssl.join(":"), expected, "{value:?}");
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} values compared");
}

#[test]
fn deviating_ciphersuites_are_warned_about() {
    for (value, _, _) in CIPHERSUITE_DEVIATIONS {
        let notes = evaluate_ciphersuites(value).notes;
        assert!(
            notes
                .iter()
                .any(|note| matches!(note, CiphersuiteNote::Tls12Name { .. })),
            "{value:?}: {notes:?}"
        );
    }
}
