//! `TlsPolicy::from_settings`: the TLS keys of `/etc/default/pveproxy` in, what rustls offers
//! out, with the warnings and errors an administrator sees.

use corral_core::tls::{
    CipherNote, CiphersuiteNote, PROXMOX_DEFAULT_CIPHERS, Tls12Suite, Tls13Suite, TlsError, TlsKey,
    TlsPolicy, TlsReport, TlsSettings, TlsWarning, TlsWarningKind,
};

use Tls12Suite::{
    EcdheEcdsaAes128GcmSha256 as EcdsaAes128, EcdheEcdsaAes256GcmSha384 as EcdsaAes256,
    EcdheEcdsaChacha20Poly1305Sha256 as EcdsaChacha, EcdheRsaAes128GcmSha256 as RsaAes128,
    EcdheRsaAes256GcmSha384 as RsaAes256, EcdheRsaChacha20Poly1305Sha256 as RsaChacha,
};

fn with_ciphers(ciphers: &str) -> TlsSettings<'_> {
    TlsSettings {
        ciphers: Some(ciphers),
        ..TlsSettings::default()
    }
}

fn with_ciphersuites(ciphersuites: &str) -> TlsSettings<'_> {
    TlsSettings {
        ciphersuites: Some(ciphersuites),
        ..TlsSettings::default()
    }
}

fn accept(settings: TlsSettings<'_>) -> TlsReport {
    match TlsPolicy::from_settings(&settings) {
        Ok(report) => report,
        Err(error) => panic!("{settings:?} refused: {error}"),
    }
}

fn refuse(settings: TlsSettings<'_>) -> TlsError {
    match TlsPolicy::from_settings(&settings) {
        Ok(report) => panic!("{settings:?} accepted: {report:?}"),
        Err(error) => error,
    }
}

fn kinds(report: &TlsReport) -> Vec<&TlsWarningKind> {
    report
        .warnings
        .iter()
        .map(|warning| &warning.kind)
        .collect()
}

#[test]
fn proxmox_defaults_keep_its_six_aead_suites_in_its_order() {
    let report = accept(TlsSettings::default());
    assert_eq!(
        report.policy,
        TlsPolicy {
            tls12_suites: vec![
                EcdsaAes256,
                RsaAes256,
                EcdsaChacha,
                RsaChacha,
                EcdsaAes128,
                RsaAes128
            ],
            tls13_suites: Tls13Suite::ALL.to_vec(),
            tls12: true,
            tls13: true,
            honor_cipher_order: true,
        }
    );
    // The four CBC ciphers are information, not a warning: the administrator did not choose them.
    assert!(report.warnings.is_empty());
    assert_eq!(
        report.tls12_dropped,
        [
            "ECDHE-ECDSA-AES256-SHA384",
            "ECDHE-RSA-AES256-SHA384",
            "ECDHE-ECDSA-AES128-SHA256",
            "ECDHE-RSA-AES128-SHA256"
        ]
    );
    assert_eq!(report.openssl_tls12.join(":"), PROXMOX_DEFAULT_CIPHERS);
}

#[test]
fn setting_the_default_list_explicitly_warns_about_its_cbc_ciphers() {
    let report = accept(with_ciphers(PROXMOX_DEFAULT_CIPHERS));
    assert_eq!(report.policy.tls12_suites, Tls12Suite::ALL);
    assert_eq!(
        kinds(&report),
        [&TlsWarningKind::UnofferableTls12Ciphers {
            names: report.tls12_dropped.clone(),
            selected: 10,
        }]
    );
}

#[test]
fn high_without_anonymous_and_md5_keeps_openssls_order() {
    let report = accept(with_ciphers("HIGH:!aNULL:!MD5"));
    assert_eq!(report.policy.tls12_suites, Tls12Suite::ALL);
    // One warning lists everything rustls cannot offer: DHE, CCM, ARIA, CBC, static RSA, …
    let [
        TlsWarning {
            key: TlsKey::Ciphers,
            kind: TlsWarningKind::UnofferableTls12Ciphers { names, .. },
        },
    ] = report.warnings.as_slice()
    else {
        panic!("{:?}", report.warnings)
    };
    assert_eq!(names, &report.tls12_dropped);
    for expected in [
        "DHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-AES256-CCM",
        "ECDHE-ARIA256-GCM-SHA384",
        "ECDHE-RSA-AES256-SHA384",
        "AES128-SHA",
        "CAMELLIA128-SHA",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(!names.iter().any(|name| name.starts_with("ADH-")));
}

#[test]
fn ecdhe_with_aesgcm_needs_no_warning() {
    let report = accept(with_ciphers("ECDHE+AESGCM"));
    assert_eq!(
        report.policy.tls12_suites,
        [EcdsaAes256, RsaAes256, EcdsaAes128, RsaAes128]
    );
    assert!(report.warnings.is_empty());
    assert!(report.tls12_dropped.is_empty());

    let report = accept(with_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20"));
    assert_eq!(
        report.policy.tls12_suites,
        [
            EcdsaAes256,
            RsaAes256,
            EcdsaAes128,
            RsaAes128,
            EcdsaChacha,
            RsaChacha
        ]
    );
    assert!(report.warnings.is_empty());
}

#[test]
fn plus_moves_chacha_last() {
    let report = accept(with_ciphers("ALL:+CHACHA20"));
    assert_eq!(
        report.policy.tls12_suites,
        [
            EcdsaAes256,
            RsaAes256,
            EcdsaAes128,
            RsaAes128,
            EcdsaChacha,
            RsaChacha
        ]
    );
}

#[test]
fn minus_removes_until_added_again() {
    let report = accept(with_ciphers(
        "ECDHE+AESGCM:ECDHE+CHACHA20:-AES256:ECDHE-ECDSA-AES256-GCM-SHA384",
    ));
    assert_eq!(
        report.policy.tls12_suites,
        [EcdsaAes128, RsaAes128, EcdsaChacha, RsaChacha, EcdsaAes256]
    );
}

#[test]
fn bang_removes_for_good() {
    let report = accept(with_ciphers(
        "ECDHE+AESGCM:ECDHE+CHACHA20:!AES256:ECDHE-ECDSA-AES256-GCM-SHA384",
    ));
    assert_eq!(
        report.policy.tls12_suites,
        [EcdsaAes128, RsaAes128, EcdsaChacha, RsaChacha]
    );
    assert!(report.warnings.is_empty());
}

#[test]
fn strength_sort_is_stable() {
    let report = accept(with_ciphers(
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:\
         @STRENGTH",
    ));
    assert_eq!(
        report.policy.tls12_suites,
        [RsaChacha, RsaAes256, RsaAes128]
    );
}

#[test]
fn ecdsa_and_rsa_suites_both_stay() {
    let report = accept(with_ciphers("aRSA+AESGCM:aECDSA+AESGCM"));
    assert_eq!(
        report.policy.tls12_suites,
        [RsaAes256, RsaAes128, EcdsaAes256, EcdsaAes128]
    );
}

#[test]
fn dhe_only_leaves_nothing_for_tls12() {
    let error = refuse(with_ciphers("DHE-RSA-AES256-GCM-SHA384"));
    assert_eq!(
        error,
        TlsError::NoUsableTls12Suite {
            ciphers: "DHE-RSA-AES256-GCM-SHA384".into(),
            unsupported: vec!["DHE-RSA-AES256-GCM-SHA384"],
        }
    );
    assert_eq!(error.key(), TlsKey::Ciphers);
    assert!(error.to_string().contains("DISABLE_TLS_1_2=1"), "{error}");
}

#[test]
fn dhe_only_is_fine_with_tls12_disabled() {
    let report = accept(TlsSettings {
        ciphers: Some("DHE-RSA-AES256-GCM-SHA384"),
        disable_tls_1_2: true,
        ..TlsSettings::default()
    });
    assert!(!report.policy.tls12 && report.policy.tls12_suites.is_empty());
    assert!(report.policy.tls13);
    assert_eq!(report.openssl_tls12, ["DHE-RSA-AES256-GCM-SHA384"]);
    assert_eq!(
        report.warnings,
        [TlsWarning {
            key: TlsKey::Ciphers,
            kind: TlsWarningKind::CiphersUnused
        }]
    );
}

#[test]
fn cbc_only_list_is_refused_with_the_names() {
    let cbc = "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:\
               ECDHE-RSA-AES128-SHA256";
    let error = refuse(with_ciphers(cbc));
    let TlsError::NoUsableTls12Suite { unsupported, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(unsupported.join(":"), cbc);
    assert!(
        error.to_string().contains("ECDHE-RSA-AES128-SHA256"),
        "{error}"
    );
}

#[test]
fn unknown_names_warn_and_are_skipped() {
    let report = accept(with_ciphers("ECDHE+AESGCM:FOO:!EXPORT"));
    assert_eq!(report.policy.tls12_suites.len(), 4);
    let names: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].contains("\"FOO\"") && names[0].contains("OpenSSL ignores it too"));
    assert!(names[1].contains("\"EXPORT\""));
    assert!(
        report
            .warnings
            .iter()
            .all(|warning| warning.key == TlsKey::Ciphers)
    );
}

#[test]
fn tls13_names_in_ciphers_are_not_tls12_ciphers() {
    let report = accept(with_ciphers("TLS_AES_256_GCM_SHA384:ECDHE+AESGCM"));
    assert_eq!(
        kinds(&report),
        [&TlsWarningKind::CipherString(CipherNote::Tls13Name {
            name: "TLS_AES_256_GCM_SHA384".into()
        })]
    );
    // Only TLS 1.3 names: OpenSSL finds no cipher.
    let error = refuse(with_ciphers("TLS_AES_256_GCM_SHA384"));
    assert!(matches!(error, TlsError::NoCipherMatch { .. }), "{error:?}");
}

#[test]
fn malformed_or_empty_cipher_strings_are_refused_like_openssl() {
    let error = refuse(with_ciphers("HIGH:ECDHE+"));
    assert!(
        matches!(error, TlsError::InvalidCiphers { .. }),
        "{error:?}"
    );
    assert_eq!(error.key(), TlsKey::Ciphers);
    assert!(error.to_string().contains("column 12"), "{error}");

    assert!(matches!(
        refuse(with_ciphers("HIGH:@SECLEVEL=9")),
        TlsError::InvalidCiphers { .. }
    ));
    assert!(matches!(
        refuse(with_ciphers("RC4:3DES")),
        TlsError::NoCipherMatch { .. }
    ));
}

#[test]
fn seclevel_is_accepted_with_a_note() {
    let report = accept(with_ciphers("ECDHE+AESGCM:@SECLEVEL=3"));
    assert_eq!(
        kinds(&report),
        [&TlsWarningKind::CipherString(CipherNote::SecLevelIgnored {
            level: 3
        })]
    );
}

#[test]
fn bad_ciphersuites_warn_and_keep_the_defaults() {
    let report = accept(with_ciphersuites("TLS_AES_512_GCM_SHA768"));
    assert_eq!(report.policy.tls13_suites, Tls13Suite::ALL);
    assert_eq!(
        kinds(&report),
        [
            &TlsWarningKind::Ciphersuite(CiphersuiteNote::UnknownName {
                name: "TLS_AES_512_GCM_SHA768".into()
            }),
            &TlsWarningKind::Tls13DefaultKept {
                value: "TLS_AES_512_GCM_SHA768".into()
            },
        ]
    );
    assert!(
        report
            .warnings
            .iter()
            .all(|warning| warning.key == TlsKey::Ciphersuites)
    );
}

#[test]
fn ciphersuites_order_is_used() {
    let report = accept(with_ciphersuites(
        "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
    ));
    assert_eq!(
        report.policy.tls13_suites,
        [
            Tls13Suite::Chacha20Poly1305Sha256,
            Tls13Suite::Aes128GcmSha256
        ]
    );
    assert!(report.warnings.is_empty());
}

#[test]
fn ccm_suites_warn() {
    let report = accept(with_ciphersuites(
        "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256",
    ));
    assert_eq!(report.policy.tls13_suites, [Tls13Suite::Aes128GcmSha256]);
    assert_eq!(
        kinds(&report),
        [&TlsWarningKind::Ciphersuite(
            CiphersuiteNote::NotOfferable {
                names: vec!["TLS_AES_128_CCM_SHA256"]
            }
        )]
    );

    // Only CCM: OpenSSL would offer CCM alone; rustls cannot, so the default stays.
    let report = accept(with_ciphersuites("TLS_AES_128_CCM_8_SHA256"));
    assert_eq!(report.policy.tls13_suites, Tls13Suite::ALL);
    assert_eq!(report.warnings.len(), 2);
}

#[test]
fn both_versions_disabled_is_refused() {
    let error = refuse(TlsSettings {
        disable_tls_1_2: true,
        disable_tls_1_3: true,
        ..TlsSettings::default()
    });
    assert_eq!(error, TlsError::BothVersionsDisabled);
    assert!(
        error
            .to_string()
            .contains("cannot disable all supported TLS versions")
    );
}

#[test]
fn disabling_tls13_makes_ciphersuites_moot() {
    let report = accept(TlsSettings {
        ciphersuites: Some("TLS_AES_128_GCM_SHA256"),
        disable_tls_1_3: true,
        honor_cipher_order: false,
        ..TlsSettings::default()
    });
    assert!(!report.policy.tls13 && report.policy.tls13_suites.is_empty());
    assert!(report.policy.tls12 && !report.policy.honor_cipher_order);
    assert_eq!(
        report.warnings,
        [TlsWarning {
            key: TlsKey::Ciphersuites,
            kind: TlsWarningKind::CiphersuitesUnused
        }]
    );
}

#[test]
fn key_names_are_the_config_keys() {
    let names: Vec<String> = [
        TlsKey::Ciphers,
        TlsKey::Ciphersuites,
        TlsKey::DisableTls12,
        TlsKey::DisableTls13,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "CIPHERS",
            "CIPHERSUITES",
            "DISABLE_TLS_1_2",
            "DISABLE_TLS_1_3"
        ]
    );
}

/// A tiny deterministic generator (xorshift64*), so the fuzz below needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "ALL",
    "DEFAULT",
    "HIGH",
    "MEDIUM",
    "eNULL",
    "aNULL",
    "kRSA",
    "RSA",
    "ECDHE",
    "kEECDH",
    "DHE",
    "AESGCM",
    "AES256",
    "CHACHA20",
    "CAMELLIA",
    "3DES",
    "SHA384",
    "TLSv1.2",
    "@STRENGTH",
    "@SECLEVEL=2",
    "@SECLEVEL=",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "AES128-SHA",
    "DHE-RSA-AES256-GCM-SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "SUITEB128",
    "FOO",
    "é",
    "\u{0}",
    "",
];
const GLUE: &[&str] = &[
    ":", ":", "+", "-", "!", "@", ",", ";", " ", "\t", "_", "/", "\u{2603}",
];

fn random_value(rng: &mut Rng) -> String {
    let mut value = String::new();
    if rng.below(4) == 0 {
        // Raw bytes from a small alphabet, mostly ASCII.
        let alphabet: Vec<char> = "AESGCMHIGHkRSA+-!@:=._ ,;é\u{0}0123456789"
            .chars()
            .collect();
        for _ in 0..rng.below(40) {
            value.push(alphabet[rng.below(alphabet.len())]);
        }
    } else {
        for _ in 0..rng.below(12) {
            value.push_str(rng.pick(GLUE));
            value.push_str(rng.pick(TOKENS));
        }
    }
    value
}

fn check_invariants(settings: &TlsSettings<'_>, report: &TlsReport) {
    let policy = &report.policy;
    assert!(policy.tls12 || policy.tls13, "{settings:?}");
    assert_eq!(
        policy.tls12,
        !policy.tls12_suites.is_empty(),
        "{settings:?}"
    );
    assert_eq!(
        policy.tls13,
        !policy.tls13_suites.is_empty(),
        "{settings:?}"
    );
    assert_eq!(policy.tls12, !settings.disable_tls_1_2, "{settings:?}");
    assert_eq!(policy.tls13, !settings.disable_tls_1_3, "{settings:?}");
    // The rustls suites are OpenSSL's list minus the dropped names, in the same order.
    let kept: Vec<&str> = report
        .openssl_tls12
        .iter()
        .copied()
        .filter(|name| !report.tls12_dropped.contains(name))
        .collect();
    if policy.tls12 {
        let ours: Vec<&str> = policy
            .tls12_suites
            .iter()
            .map(|suite| suite.openssl_name())
            .collect();
        assert_eq!(ours, kept, "{settings:?}");
    }
    let mut tls13 = policy.tls13_suites.clone();
    tls13.sort();
    tls13.dedup();
    assert_eq!(tls13.len(), policy.tls13_suites.len(), "{settings:?}");
}

#[test]
fn any_input_gives_a_deterministic_answer_without_panicking() {
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    for round in 0..4000 {
        let ciphers = random_value(&mut rng);
        let ciphersuites = random_value(&mut rng);
        let settings = TlsSettings {
            ciphers: Some(&ciphers),
            ciphersuites: (round % 3 != 0).then_some(ciphersuites.as_str()),
            disable_tls_1_2: round % 7 == 0,
            disable_tls_1_3: round % 5 == 0,
            honor_cipher_order: round % 2 == 0,
        };
        let first = TlsPolicy::from_settings(&settings);
        let second = TlsPolicy::from_settings(&settings);
        assert_eq!(first, second, "{settings:?}");
        match &first {
            Ok(report) => check_invariants(&settings, report),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
        for warning in first.iter().flat_map(|report| &report.warnings) {
            assert!(!warning.to_string().is_empty());
        }
    }
}
