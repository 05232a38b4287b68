//! OpenSSL 3.0's table of TLS ≤ 1.2 ciphers and of cipher-string aliases, as data.
//!
//! Bit values and alias definitions mirror OpenSSL 3.0's `ssl/ssl_local.h` and the
//! `cipher_aliases[]` table of `ssl/ssl_ciph.c`, so that combining and matching them can follow
//! `ssl_cipher_process_rulestr` and `ssl_cipher_apply_rule` step by step.
//!
//! The cipher rows were taken from `openssl ciphers -stdname -v 'ALL:COMPLEMENTOFALL'` of
//! OpenSSL 3.0.19 (Debian bookworm, the base of Proxmox VE 8), with the strength flags read from
//! the `HIGH`, `FIPS` and `COMPLEMENTOFDEFAULT` aliases. That build, like every default OpenSSL 3
//! build, compiles no 3DES, RC4, SEED, IDEA or GOST suites, so such names are unknown to it and to
//! us. The rows are in OpenSSL's *pre-sorted* order (the order `ssl_create_cipher_list` arranges
//! before applying a rule string), which is the order a plain alias appends ciphers in: the
//! command prints the 18 eNULL rows last, and they are put back where the pre-sort rules place
//! them (kECDHE ones after the other (EC)DHE CBC ciphers, `NULL-SHA256` after the TLS 1.2 CBC
//! ones, the rest at the end).

// Key exchange (`algorithm_mkey`).
const K_RSA: u32 = 0x0001;
const K_DHE: u32 = 0x0002;
const K_ECDHE: u32 = 0x0004;
const K_PSK: u32 = 0x0008;
const K_GOST: u32 = 0x0010;
const K_SRP: u32 = 0x0020;
const K_RSAPSK: u32 = 0x0040;
const K_ECDHEPSK: u32 = 0x0080;
const K_DHEPSK: u32 = 0x0100;
const K_GOST18: u32 = 0x0200;
const K_ANY_PSK: u32 = K_PSK | K_RSAPSK | K_ECDHEPSK | K_DHEPSK;

// Server authentication (`algorithm_auth`).
const A_RSA: u32 = 0x0001;
const A_DSS: u32 = 0x0002;
const A_NULL: u32 = 0x0004;
const A_ECDSA: u32 = 0x0008;
const A_PSK: u32 = 0x0010;
const A_GOST01: u32 = 0x0020;
const A_SRP: u32 = 0x0040;
const A_GOST12: u32 = 0x0080;

// Symmetric encryption (`algorithm_enc`).
const E_DES: u32 = 0x0000_0001;
const E_3DES: u32 = 0x0000_0002;
const E_RC4: u32 = 0x0000_0004;
const E_RC2: u32 = 0x0000_0008;
const E_IDEA: u32 = 0x0000_0010;
const E_NULL: u32 = 0x0000_0020;
const E_AES128: u32 = 0x0000_0040;
const E_AES256: u32 = 0x0000_0080;
const E_CAMELLIA128: u32 = 0x0000_0100;
const E_CAMELLIA256: u32 = 0x0000_0200;
const E_GOST89: u32 = 0x0000_0400;
const E_SEED: u32 = 0x0000_0800;
const E_AES128GCM: u32 = 0x0000_1000;
const E_AES256GCM: u32 = 0x0000_2000;
const E_AES128CCM: u32 = 0x0000_4000;
const E_AES256CCM: u32 = 0x0000_8000;
const E_AES128CCM8: u32 = 0x0001_0000;
const E_AES256CCM8: u32 = 0x0002_0000;
const E_GOST89_12: u32 = 0x0004_0000;
const E_CHACHA20POLY1305: u32 = 0x0008_0000;
const E_ARIA128GCM: u32 = 0x0010_0000;
const E_ARIA256GCM: u32 = 0x0020_0000;
const E_MAGMA: u32 = 0x0040_0000;
const E_KUZNYECHIK: u32 = 0x0080_0000;
const E_AESGCM: u32 = E_AES128GCM | E_AES256GCM;
const E_AESCCM8: u32 = E_AES128CCM8 | E_AES256CCM8;
const E_AESCCM: u32 = E_AES128CCM | E_AES256CCM | E_AESCCM8;
const E_AES: u32 = E_AES128 | E_AES256 | E_AESGCM | E_AESCCM;
const E_CAMELLIA: u32 = E_CAMELLIA128 | E_CAMELLIA256;
const E_ARIA: u32 = E_ARIA128GCM | E_ARIA256GCM;
const E_CBC: u32 =
    E_DES | E_3DES | E_RC2 | E_IDEA | E_AES128 | E_AES256 | E_CAMELLIA128 | E_CAMELLIA256 | E_SEED;

// Record MAC (`algorithm_mac`).
const M_MD5: u32 = 0x0001;
const M_SHA1: u32 = 0x0002;
const M_GOST94: u32 = 0x0004;
const M_GOST89MAC: u32 = 0x0008;
const M_SHA256: u32 = 0x0010;
const M_SHA384: u32 = 0x0020;
const M_AEAD: u32 = 0x0040;
const M_GOST12_256: u32 = 0x0080;
const M_GOST89MAC12: u32 = 0x0100;

// Minimum protocol version (`min_tls`); 0 in an alias means "any".
const SSL3: u16 = 0x0300;
const TLS1: u16 = 0x0301;
const TLS1_2: u16 = 0x0303;

// Strength classes (`algo_strength`). FIPS belongs to the "strong" mask, NOT_DEFAULT to the
// "default" mask; the two masks combine differently in multi-part rules.
const STRONG_NONE: u32 = 0x01;
const LOW: u32 = 0x02;
const MEDIUM: u32 = 0x04;
const HIGH: u32 = 0x08;
const FIPS: u32 = 0x10;
const NOT_DEFAULT: u32 = 0x20;
pub(crate) const STRONG_MASK: u32 = 0x1F;
pub(crate) const DEFAULT_MASK: u32 = 0x20;

/// What a cipher or an alias selects: OpenSSL's `SSL_CIPHER` fields that rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Attrs {
    pub(crate) mkey: u32,
    pub(crate) auth: u32,
    pub(crate) enc: u32,
    pub(crate) mac: u32,
    pub(crate) min_tls: u16,
    pub(crate) strength: u32,
}

/// One TLS ≤ 1.2 cipher OpenSSL 3.0 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpensslCipher {
    name: &'static str,
    iana_name: &'static str,
    pub(crate) attrs: Attrs,
    strength_bits: u16,
}

impl OpensslCipher {
    /// The OpenSSL name, e.g. `ECDHE-RSA-AES128-GCM-SHA256`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub fn iana_name(&self) -> &'static str {
        self.iana_name
    }

    /// Symmetric strength in bits, what `@STRENGTH` sorts by (0 for eNULL ciphers).
    pub fn strength_bits(&self) -> u16 {
        self.strength_bits
    }

    /// The oldest protocol the cipher exists in, as `openssl ciphers -v` prints it.
    pub fn min_protocol(&self) -> &'static str {
        match self.attrs.min_tls {
            SSL3 => "SSLv3",
            TLS1 => "TLSv1",
            _ => "TLSv1.2",
        }
    }

    /// Key exchange, as `openssl ciphers -v` prints it after `Kx=`.
    pub fn key_exchange(&self) -> &'static str {
        match self.attrs.mkey {
            K_RSA => "RSA",
            K_DHE => "DH",
            K_ECDHE => "ECDH",
            K_PSK => "PSK",
            K_RSAPSK => "RSAPSK",
            K_ECDHEPSK => "ECDHEPSK",
            K_DHEPSK => "DHEPSK",
            K_SRP => "SRP",
            _ => "unknown",
        }
    }

    /// Server authentication, as `openssl ciphers -v` prints it after `Au=`.
    pub fn authentication(&self) -> &'static str {
        match self.attrs.auth {
            A_RSA => "RSA",
            A_DSS => "DSS",
            A_NULL => "None",
            A_ECDSA => "ECDSA",
            A_PSK => "PSK",
            A_SRP => "SRP",
            _ => "unknown",
        }
    }

    /// Symmetric encryption, as `openssl ciphers -v` prints it after `Enc=`.
    pub fn encryption(&self) -> &'static str {
        match self.attrs.enc {
            E_NULL => "None",
            E_AES128 => "AES(128)",
            E_AES256 => "AES(256)",
            E_AES128GCM => "AESGCM(128)",
            E_AES256GCM => "AESGCM(256)",
            E_AES128CCM => "AESCCM(128)",
            E_AES256CCM => "AESCCM(256)",
            E_AES128CCM8 => "AESCCM8(128)",
            E_AES256CCM8 => "AESCCM8(256)",
            E_CAMELLIA128 => "Camellia(128)",
            E_CAMELLIA256 => "Camellia(256)",
            E_ARIA128GCM => "ARIAGCM(128)",
            E_ARIA256GCM => "ARIAGCM(256)",
            E_CHACHA20POLY1305 => "CHACHA20/POLY1305(256)",
            _ => "unknown",
        }
    }

    /// Record MAC, as `openssl ciphers -v` prints it after `Mac=`.
    pub fn mac(&self) -> &'static str {
        match self.attrs.mac {
            M_MD5 => "MD5",
            M_SHA1 => "SHA1",
            M_SHA256 => "SHA256",
            M_SHA384 => "SHA384",
            M_AEAD => "AEAD",
            _ => "unknown",
        }
    }
}

#[allow(clippy::too_many_arguments)] // one row of a table, spelled like OpenSSL's
const fn c(
    name: &'static str,
    iana_name: &'static str,
    mkey: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u16,
    strength: u32,
    strength_bits: u16,
) -> OpensslCipher {
    OpensslCipher {
        name,
        iana_name,
        attrs: Attrs {
            mkey,
            auth,
            enc,
            mac,
            min_tls,
            strength,
        },
        strength_bits,
    }
}

/// Every TLS ≤ 1.2 cipher of OpenSSL 3.0, in pre-sorted order (see the module docs).
#[rustfmt::skip]
pub(crate) static CIPHERS: [OpensslCipher; 155] = [
    // name, IANA name, key exchange, authentication, encryption, MAC, minimum protocol,
    // strength flags, strength bits
    c("ECDHE-ECDSA-AES256-GCM-SHA384",   "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",        K_ECDHE,     A_ECDSA,  E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("ECDHE-RSA-AES256-GCM-SHA384",     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",          K_ECDHE,     A_RSA,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("DHE-DSS-AES256-GCM-SHA384",       "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",            K_DHE,       A_DSS,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 256),
    c("DHE-RSA-AES256-GCM-SHA384",       "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",            K_DHE,       A_RSA,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("ECDHE-ECDSA-CHACHA20-POLY1305",   "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",  K_ECDHE,     A_ECDSA,  E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("ECDHE-RSA-CHACHA20-POLY1305",     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",    K_ECDHE,     A_RSA,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("DHE-RSA-CHACHA20-POLY1305",       "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",      K_DHE,       A_RSA,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("ECDHE-ECDSA-AES256-CCM8",         "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",             K_ECDHE,     A_ECDSA,  E_AES256CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-AES256-CCM",          "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",               K_ECDHE,     A_ECDSA,  E_AES256CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-RSA-AES256-CCM8",             "TLS_DHE_RSA_WITH_AES_256_CCM_8",                 K_DHE,       A_RSA,    E_AES256CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-RSA-AES256-CCM",              "TLS_DHE_RSA_WITH_AES_256_CCM",                   K_DHE,       A_RSA,    E_AES256CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-ARIA256-GCM-SHA384",  "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",       K_ECDHE,     A_ECDSA,  E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ECDHE-ARIA256-GCM-SHA384",        "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",         K_ECDHE,     A_RSA,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-DSS-ARIA256-GCM-SHA384",      "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384",           K_DHE,       A_DSS,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-RSA-ARIA256-GCM-SHA384",      "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384",           K_DHE,       A_RSA,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ADH-AES256-GCM-SHA384",           "TLS_DH_anon_WITH_AES_256_GCM_SHA384",            K_DHE,       A_NULL,   E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-AES128-GCM-SHA256",   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",        K_ECDHE,     A_ECDSA,  E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("ECDHE-RSA-AES128-GCM-SHA256",     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",          K_ECDHE,     A_RSA,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("DHE-DSS-AES128-GCM-SHA256",       "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",            K_DHE,       A_DSS,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 128),
    c("DHE-RSA-AES128-GCM-SHA256",       "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",            K_DHE,       A_RSA,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("ECDHE-ECDSA-AES128-CCM8",         "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",             K_ECDHE,     A_ECDSA,  E_AES128CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-AES128-CCM",          "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",               K_ECDHE,     A_ECDSA,  E_AES128CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-RSA-AES128-CCM8",             "TLS_DHE_RSA_WITH_AES_128_CCM_8",                 K_DHE,       A_RSA,    E_AES128CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-RSA-AES128-CCM",              "TLS_DHE_RSA_WITH_AES_128_CCM",                   K_DHE,       A_RSA,    E_AES128CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-ARIA128-GCM-SHA256",  "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",       K_ECDHE,     A_ECDSA,  E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ECDHE-ARIA128-GCM-SHA256",        "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",         K_ECDHE,     A_RSA,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-DSS-ARIA128-GCM-SHA256",      "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256",           K_DHE,       A_DSS,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-RSA-ARIA128-GCM-SHA256",      "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256",           K_DHE,       A_RSA,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ADH-AES128-GCM-SHA256",           "TLS_DH_anon_WITH_AES_128_GCM_SHA256",            K_DHE,       A_NULL,   E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-AES256-SHA384",       "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",        K_ECDHE,     A_ECDSA,  E_AES256,            M_SHA384,  TLS1_2,  HIGH | FIPS, 256),
    c("ECDHE-RSA-AES256-SHA384",         "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",          K_ECDHE,     A_RSA,    E_AES256,            M_SHA384,  TLS1_2,  HIGH | FIPS, 256),
    c("DHE-RSA-AES256-SHA256",           "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",            K_DHE,       A_RSA,    E_AES256,            M_SHA256,  TLS1_2,  HIGH | FIPS, 256),
    c("DHE-DSS-AES256-SHA256",           "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",            K_DHE,       A_DSS,    E_AES256,            M_SHA256,  TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-CAMELLIA256-SHA384",  "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",   K_ECDHE,     A_ECDSA,  E_CAMELLIA256,       M_SHA384,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ECDHE-RSA-CAMELLIA256-SHA384",    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",     K_ECDHE,     A_RSA,    E_CAMELLIA256,       M_SHA384,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-RSA-CAMELLIA256-SHA256",      "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",       K_DHE,       A_RSA,    E_CAMELLIA256,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-DSS-CAMELLIA256-SHA256",      "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",       K_DHE,       A_DSS,    E_CAMELLIA256,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ADH-AES256-SHA256",               "TLS_DH_anon_WITH_AES_256_CBC_SHA256",            K_DHE,       A_NULL,   E_AES256,            M_SHA256,  TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 256),
    c("ADH-CAMELLIA256-SHA256",          "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",       K_DHE,       A_NULL,   E_CAMELLIA256,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-AES128-SHA256",       "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",        K_ECDHE,     A_ECDSA,  E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS, 128),
    c("ECDHE-RSA-AES128-SHA256",         "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",          K_ECDHE,     A_RSA,    E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS, 128),
    c("DHE-RSA-AES128-SHA256",           "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",            K_DHE,       A_RSA,    E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS, 128),
    c("DHE-DSS-AES128-SHA256",           "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",            K_DHE,       A_DSS,    E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-CAMELLIA128-SHA256",  "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",   K_ECDHE,     A_ECDSA,  E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ECDHE-RSA-CAMELLIA128-SHA256",    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",     K_ECDHE,     A_RSA,    E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-RSA-CAMELLIA128-SHA256",      "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",       K_DHE,       A_RSA,    E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-DSS-CAMELLIA128-SHA256",      "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",       K_DHE,       A_DSS,    E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ADH-AES128-SHA256",               "TLS_DH_anon_WITH_AES_128_CBC_SHA256",            K_DHE,       A_NULL,   E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS | NOT_DEFAULT, 128),
    c("ADH-CAMELLIA128-SHA256",          "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",       K_DHE,       A_NULL,   E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-AES256-SHA",          "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",           K_ECDHE,     A_ECDSA,  E_AES256,            M_SHA1,    TLS1,    HIGH | FIPS, 256),
    c("ECDHE-RSA-AES256-SHA",            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",             K_ECDHE,     A_RSA,    E_AES256,            M_SHA1,    TLS1,    HIGH | FIPS, 256),
    c("DHE-RSA-AES256-SHA",              "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",               K_DHE,       A_RSA,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS, 256),
    c("DHE-DSS-AES256-SHA",              "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",               K_DHE,       A_DSS,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS | NOT_DEFAULT, 256),
    c("DHE-RSA-CAMELLIA256-SHA",         "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",          K_DHE,       A_RSA,    E_CAMELLIA256,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 256),
    c("DHE-DSS-CAMELLIA256-SHA",         "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",          K_DHE,       A_DSS,    E_CAMELLIA256,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 256),
    c("AECDH-AES256-SHA",                "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",             K_ECDHE,     A_NULL,   E_AES256,            M_SHA1,    TLS1,    HIGH | FIPS | NOT_DEFAULT, 256),
    c("ADH-AES256-SHA",                  "TLS_DH_anon_WITH_AES_256_CBC_SHA",               K_DHE,       A_NULL,   E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS | NOT_DEFAULT, 256),
    c("ADH-CAMELLIA256-SHA",             "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",          K_DHE,       A_NULL,   E_CAMELLIA256,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 256),
    c("ECDHE-ECDSA-AES128-SHA",          "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",           K_ECDHE,     A_ECDSA,  E_AES128,            M_SHA1,    TLS1,    HIGH | FIPS, 128),
    c("ECDHE-RSA-AES128-SHA",            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",             K_ECDHE,     A_RSA,    E_AES128,            M_SHA1,    TLS1,    HIGH | FIPS, 128),
    c("DHE-RSA-AES128-SHA",              "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",               K_DHE,       A_RSA,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS, 128),
    c("DHE-DSS-AES128-SHA",              "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",               K_DHE,       A_DSS,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS | NOT_DEFAULT, 128),
    c("DHE-RSA-CAMELLIA128-SHA",         "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",          K_DHE,       A_RSA,    E_CAMELLIA128,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 128),
    c("DHE-DSS-CAMELLIA128-SHA",         "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",          K_DHE,       A_DSS,    E_CAMELLIA128,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 128),
    c("AECDH-AES128-SHA",                "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",             K_ECDHE,     A_NULL,   E_AES128,            M_SHA1,    TLS1,    HIGH | FIPS | NOT_DEFAULT, 128),
    c("ADH-AES128-SHA",                  "TLS_DH_anon_WITH_AES_128_CBC_SHA",               K_DHE,       A_NULL,   E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS | NOT_DEFAULT, 128),
    c("ADH-CAMELLIA128-SHA",             "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",          K_DHE,       A_NULL,   E_CAMELLIA128,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 128),
    c("ECDHE-ECDSA-NULL-SHA",            "TLS_ECDHE_ECDSA_WITH_NULL_SHA",                  K_ECDHE,     A_ECDSA,  E_NULL,              M_SHA1,    TLS1,    STRONG_NONE, 0),
    c("ECDHE-RSA-NULL-SHA",              "TLS_ECDHE_RSA_WITH_NULL_SHA",                    K_ECDHE,     A_RSA,    E_NULL,              M_SHA1,    TLS1,    STRONG_NONE, 0),
    c("AECDH-NULL-SHA",                  "TLS_ECDH_anon_WITH_NULL_SHA",                    K_ECDHE,     A_NULL,   E_NULL,              M_SHA1,    TLS1,    STRONG_NONE, 0),
    c("RSA-PSK-AES256-GCM-SHA384",       "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",            K_RSAPSK,    A_RSA,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("DHE-PSK-AES256-GCM-SHA384",       "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",            K_DHEPSK,    A_PSK,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("RSA-PSK-CHACHA20-POLY1305",       "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",      K_RSAPSK,    A_RSA,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("DHE-PSK-CHACHA20-POLY1305",       "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",      K_DHEPSK,    A_PSK,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("ECDHE-PSK-CHACHA20-POLY1305",     "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",    K_ECDHEPSK,  A_PSK,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("DHE-PSK-AES256-CCM8",             "TLS_PSK_DHE_WITH_AES_256_CCM_8",                 K_DHEPSK,    A_PSK,    E_AES256CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-PSK-AES256-CCM",              "TLS_DHE_PSK_WITH_AES_256_CCM",                   K_DHEPSK,    A_PSK,    E_AES256CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("RSA-PSK-ARIA256-GCM-SHA384",      "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384",           K_RSAPSK,    A_RSA,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("DHE-PSK-ARIA256-GCM-SHA384",      "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384",           K_DHEPSK,    A_PSK,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("AES256-GCM-SHA384",               "TLS_RSA_WITH_AES_256_GCM_SHA384",                K_RSA,       A_RSA,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("AES256-CCM8",                     "TLS_RSA_WITH_AES_256_CCM_8",                     K_RSA,       A_RSA,    E_AES256CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("AES256-CCM",                      "TLS_RSA_WITH_AES_256_CCM",                       K_RSA,       A_RSA,    E_AES256CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("ARIA256-GCM-SHA384",              "TLS_RSA_WITH_ARIA_256_GCM_SHA384",               K_RSA,       A_RSA,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("PSK-AES256-GCM-SHA384",           "TLS_PSK_WITH_AES_256_GCM_SHA384",                K_PSK,       A_PSK,    E_AES256GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 256),
    c("PSK-CHACHA20-POLY1305",           "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",          K_PSK,       A_PSK,    E_CHACHA20POLY1305,  M_AEAD,    TLS1_2,  HIGH, 256),
    c("PSK-AES256-CCM8",                 "TLS_PSK_WITH_AES_256_CCM_8",                     K_PSK,       A_PSK,    E_AES256CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("PSK-AES256-CCM",                  "TLS_PSK_WITH_AES_256_CCM",                       K_PSK,       A_PSK,    E_AES256CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("PSK-ARIA256-GCM-SHA384",          "TLS_PSK_WITH_ARIA_256_GCM_SHA384",               K_PSK,       A_PSK,    E_ARIA256GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("RSA-PSK-AES128-GCM-SHA256",       "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",            K_RSAPSK,    A_RSA,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("DHE-PSK-AES128-GCM-SHA256",       "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",            K_DHEPSK,    A_PSK,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("DHE-PSK-AES128-CCM8",             "TLS_PSK_DHE_WITH_AES_128_CCM_8",                 K_DHEPSK,    A_PSK,    E_AES128CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-PSK-AES128-CCM",              "TLS_DHE_PSK_WITH_AES_128_CCM",                   K_DHEPSK,    A_PSK,    E_AES128CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("RSA-PSK-ARIA128-GCM-SHA256",      "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256",           K_RSAPSK,    A_RSA,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("DHE-PSK-ARIA128-GCM-SHA256",      "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256",           K_DHEPSK,    A_PSK,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("AES128-GCM-SHA256",               "TLS_RSA_WITH_AES_128_GCM_SHA256",                K_RSA,       A_RSA,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("AES128-CCM8",                     "TLS_RSA_WITH_AES_128_CCM_8",                     K_RSA,       A_RSA,    E_AES128CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("AES128-CCM",                      "TLS_RSA_WITH_AES_128_CCM",                       K_RSA,       A_RSA,    E_AES128CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("ARIA128-GCM-SHA256",              "TLS_RSA_WITH_ARIA_128_GCM_SHA256",               K_RSA,       A_RSA,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("PSK-AES128-GCM-SHA256",           "TLS_PSK_WITH_AES_128_GCM_SHA256",                K_PSK,       A_PSK,    E_AES128GCM,         M_AEAD,    TLS1_2,  HIGH | FIPS, 128),
    c("PSK-AES128-CCM8",                 "TLS_PSK_WITH_AES_128_CCM_8",                     K_PSK,       A_PSK,    E_AES128CCM8,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("PSK-AES128-CCM",                  "TLS_PSK_WITH_AES_128_CCM",                       K_PSK,       A_PSK,    E_AES128CCM,         M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("PSK-ARIA128-GCM-SHA256",          "TLS_PSK_WITH_ARIA_128_GCM_SHA256",               K_PSK,       A_PSK,    E_ARIA128GCM,        M_AEAD,    TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("AES256-SHA256",                   "TLS_RSA_WITH_AES_256_CBC_SHA256",                K_RSA,       A_RSA,    E_AES256,            M_SHA256,  TLS1_2,  HIGH | FIPS, 256),
    c("CAMELLIA256-SHA256",              "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",           K_RSA,       A_RSA,    E_CAMELLIA256,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 256),
    c("AES128-SHA256",                   "TLS_RSA_WITH_AES_128_CBC_SHA256",                K_RSA,       A_RSA,    E_AES128,            M_SHA256,  TLS1_2,  HIGH | FIPS, 128),
    c("CAMELLIA128-SHA256",              "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",           K_RSA,       A_RSA,    E_CAMELLIA128,       M_SHA256,  TLS1_2,  HIGH | NOT_DEFAULT, 128),
    c("NULL-SHA256",                     "TLS_RSA_WITH_NULL_SHA256",                       K_RSA,       A_RSA,    E_NULL,              M_SHA256,  TLS1_2,  STRONG_NONE, 0),
    c("ECDHE-PSK-AES256-CBC-SHA384",     "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",          K_ECDHEPSK,  A_PSK,    E_AES256,            M_SHA384,  TLS1,    HIGH | FIPS, 256),
    c("ECDHE-PSK-AES256-CBC-SHA",        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",             K_ECDHEPSK,  A_PSK,    E_AES256,            M_SHA1,    TLS1,    HIGH | FIPS, 256),
    c("SRP-DSS-AES-256-CBC-SHA",         "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",           K_SRP,       A_DSS,    E_AES256,            M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 256),
    c("SRP-RSA-AES-256-CBC-SHA",         "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",           K_SRP,       A_RSA,    E_AES256,            M_SHA1,    SSL3,    HIGH, 256),
    c("SRP-AES-256-CBC-SHA",             "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",               K_SRP,       A_SRP,    E_AES256,            M_SHA1,    SSL3,    HIGH, 256),
    c("RSA-PSK-AES256-CBC-SHA384",       "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",            K_RSAPSK,    A_RSA,    E_AES256,            M_SHA384,  TLS1,    HIGH | FIPS, 256),
    c("DHE-PSK-AES256-CBC-SHA384",       "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",            K_DHEPSK,    A_PSK,    E_AES256,            M_SHA384,  TLS1,    HIGH | FIPS, 256),
    c("RSA-PSK-AES256-CBC-SHA",          "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",               K_RSAPSK,    A_RSA,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS, 256),
    c("DHE-PSK-AES256-CBC-SHA",          "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",               K_DHEPSK,    A_PSK,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS, 256),
    c("ECDHE-PSK-CAMELLIA256-SHA384",    "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",     K_ECDHEPSK,  A_PSK,    E_CAMELLIA256,       M_SHA384,  TLS1,    HIGH | NOT_DEFAULT, 256),
    c("RSA-PSK-CAMELLIA256-SHA384",      "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",       K_RSAPSK,    A_RSA,    E_CAMELLIA256,       M_SHA384,  TLS1,    HIGH | NOT_DEFAULT, 256),
    c("DHE-PSK-CAMELLIA256-SHA384",      "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",       K_DHEPSK,    A_PSK,    E_CAMELLIA256,       M_SHA384,  TLS1,    HIGH | NOT_DEFAULT, 256),
    c("AES256-SHA",                      "TLS_RSA_WITH_AES_256_CBC_SHA",                   K_RSA,       A_RSA,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS, 256),
    c("CAMELLIA256-SHA",                 "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",              K_RSA,       A_RSA,    E_CAMELLIA256,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 256),
    c("PSK-AES256-CBC-SHA384",           "TLS_PSK_WITH_AES_256_CBC_SHA384",                K_PSK,       A_PSK,    E_AES256,            M_SHA384,  TLS1,    HIGH | FIPS, 256),
    c("PSK-AES256-CBC-SHA",              "TLS_PSK_WITH_AES_256_CBC_SHA",                   K_PSK,       A_PSK,    E_AES256,            M_SHA1,    SSL3,    HIGH | FIPS, 256),
    c("PSK-CAMELLIA256-SHA384",          "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",           K_PSK,       A_PSK,    E_CAMELLIA256,       M_SHA384,  TLS1,    HIGH | NOT_DEFAULT, 256),
    c("ECDHE-PSK-AES128-CBC-SHA256",     "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",          K_ECDHEPSK,  A_PSK,    E_AES128,            M_SHA256,  TLS1,    HIGH | FIPS, 128),
    c("ECDHE-PSK-AES128-CBC-SHA",        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",             K_ECDHEPSK,  A_PSK,    E_AES128,            M_SHA1,    TLS1,    HIGH | FIPS, 128),
    c("SRP-DSS-AES-128-CBC-SHA",         "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",           K_SRP,       A_DSS,    E_AES128,            M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 128),
    c("SRP-RSA-AES-128-CBC-SHA",         "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",           K_SRP,       A_RSA,    E_AES128,            M_SHA1,    SSL3,    HIGH, 128),
    c("SRP-AES-128-CBC-SHA",             "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",               K_SRP,       A_SRP,    E_AES128,            M_SHA1,    SSL3,    HIGH, 128),
    c("RSA-PSK-AES128-CBC-SHA256",       "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",            K_RSAPSK,    A_RSA,    E_AES128,            M_SHA256,  TLS1,    HIGH | FIPS, 128),
    c("DHE-PSK-AES128-CBC-SHA256",       "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",            K_DHEPSK,    A_PSK,    E_AES128,            M_SHA256,  TLS1,    HIGH | FIPS, 128),
    c("RSA-PSK-AES128-CBC-SHA",          "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",               K_RSAPSK,    A_RSA,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS, 128),
    c("DHE-PSK-AES128-CBC-SHA",          "TLS_DHE_PSK_WITH_AES_128_CBC_SHA",               K_DHEPSK,    A_PSK,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS, 128),
    c("ECDHE-PSK-CAMELLIA128-SHA256",    "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",     K_ECDHEPSK,  A_PSK,    E_CAMELLIA128,       M_SHA256,  TLS1,    HIGH | NOT_DEFAULT, 128),
    c("RSA-PSK-CAMELLIA128-SHA256",      "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",       K_RSAPSK,    A_RSA,    E_CAMELLIA128,       M_SHA256,  TLS1,    HIGH | NOT_DEFAULT, 128),
    c("DHE-PSK-CAMELLIA128-SHA256",      "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",       K_DHEPSK,    A_PSK,    E_CAMELLIA128,       M_SHA256,  TLS1,    HIGH | NOT_DEFAULT, 128),
    c("AES128-SHA",                      "TLS_RSA_WITH_AES_128_CBC_SHA",                   K_RSA,       A_RSA,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS, 128),
    c("CAMELLIA128-SHA",                 "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",              K_RSA,       A_RSA,    E_CAMELLIA128,       M_SHA1,    SSL3,    HIGH | NOT_DEFAULT, 128),
    c("PSK-AES128-CBC-SHA256",           "TLS_PSK_WITH_AES_128_CBC_SHA256",                K_PSK,       A_PSK,    E_AES128,            M_SHA256,  TLS1,    HIGH | FIPS, 128),
    c("PSK-AES128-CBC-SHA",              "TLS_PSK_WITH_AES_128_CBC_SHA",                   K_PSK,       A_PSK,    E_AES128,            M_SHA1,    SSL3,    HIGH | FIPS, 128),
    c("PSK-CAMELLIA128-SHA256",          "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",           K_PSK,       A_PSK,    E_CAMELLIA128,       M_SHA256,  TLS1,    HIGH | NOT_DEFAULT, 128),
    c("ECDHE-PSK-NULL-SHA384",           "TLS_ECDHE_PSK_WITH_NULL_SHA384",                 K_ECDHEPSK,  A_PSK,    E_NULL,              M_SHA384,  TLS1,    STRONG_NONE, 0),
    c("ECDHE-PSK-NULL-SHA256",           "TLS_ECDHE_PSK_WITH_NULL_SHA256",                 K_ECDHEPSK,  A_PSK,    E_NULL,              M_SHA256,  TLS1,    STRONG_NONE, 0),
    c("ECDHE-PSK-NULL-SHA",              "TLS_ECDHE_PSK_WITH_NULL_SHA",                    K_ECDHEPSK,  A_PSK,    E_NULL,              M_SHA1,    TLS1,    STRONG_NONE, 0),
    c("RSA-PSK-NULL-SHA384",             "TLS_RSA_PSK_WITH_NULL_SHA384",                   K_RSAPSK,    A_RSA,    E_NULL,              M_SHA384,  TLS1,    STRONG_NONE, 0),
    c("RSA-PSK-NULL-SHA256",             "TLS_RSA_PSK_WITH_NULL_SHA256",                   K_RSAPSK,    A_RSA,    E_NULL,              M_SHA256,  TLS1,    STRONG_NONE, 0),
    c("DHE-PSK-NULL-SHA384",             "TLS_DHE_PSK_WITH_NULL_SHA384",                   K_DHEPSK,    A_PSK,    E_NULL,              M_SHA384,  TLS1,    STRONG_NONE, 0),
    c("DHE-PSK-NULL-SHA256",             "TLS_DHE_PSK_WITH_NULL_SHA256",                   K_DHEPSK,    A_PSK,    E_NULL,              M_SHA256,  TLS1,    STRONG_NONE, 0),
    c("RSA-PSK-NULL-SHA",                "TLS_RSA_PSK_WITH_NULL_SHA",                      K_RSAPSK,    A_RSA,    E_NULL,              M_SHA1,    SSL3,    STRONG_NONE, 0),
    c("DHE-PSK-NULL-SHA",                "TLS_DHE_PSK_WITH_NULL_SHA",                      K_DHEPSK,    A_PSK,    E_NULL,              M_SHA1,    SSL3,    STRONG_NONE, 0),
    c("NULL-SHA",                        "TLS_RSA_WITH_NULL_SHA",                          K_RSA,       A_RSA,    E_NULL,              M_SHA1,    SSL3,    STRONG_NONE, 0),
    c("NULL-MD5",                        "TLS_RSA_WITH_NULL_MD5",                          K_RSA,       A_RSA,    E_NULL,              M_MD5,     SSL3,    STRONG_NONE, 0),
    c("PSK-NULL-SHA384",                 "TLS_PSK_WITH_NULL_SHA384",                       K_PSK,       A_PSK,    E_NULL,              M_SHA384,  TLS1,    STRONG_NONE, 0),
    c("PSK-NULL-SHA256",                 "TLS_PSK_WITH_NULL_SHA256",                       K_PSK,       A_PSK,    E_NULL,              M_SHA256,  TLS1,    STRONG_NONE, 0),
    c("PSK-NULL-SHA",                    "TLS_PSK_WITH_NULL_SHA",                          K_PSK,       A_PSK,    E_NULL,              M_SHA1,    SSL3,    STRONG_NONE, 0),
];

/// A cipher-string alias: a name for a set of ciphers (not itself a cipher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Alias {
    pub(crate) name: &'static str,
    pub(crate) attrs: Attrs,
}

const fn alias(name: &'static str, mkey: u32, auth: u32, enc: u32, mac: u32) -> Alias {
    Alias {
        name,
        attrs: Attrs {
            mkey,
            auth,
            enc,
            mac,
            min_tls: 0,
            strength: 0,
        },
    }
}

const fn protocol_alias(name: &'static str, min_tls: u16) -> Alias {
    Alias {
        name,
        attrs: Attrs {
            mkey: 0,
            auth: 0,
            enc: 0,
            mac: 0,
            min_tls,
            strength: 0,
        },
    }
}

const fn strength_alias(name: &'static str, enc: u32, strength: u32) -> Alias {
    Alias {
        name,
        attrs: Attrs {
            mkey: 0,
            auth: 0,
            enc,
            mac: 0,
            min_tls: 0,
            strength,
        },
    }
}

/// OpenSSL 3.0's `cipher_aliases[]`, in its order. Aliases for algorithms this build lacks (RC4,
/// GOST, …) are kept: they select nothing, as they do in OpenSSL.
pub(crate) static ALIASES: [Alias; 79] = [
    alias("ALL", 0, 0, !E_NULL, 0),
    alias("COMPLEMENTOFALL", 0, 0, E_NULL, 0),
    strength_alias("COMPLEMENTOFDEFAULT", 0, NOT_DEFAULT),
    // Key exchange.
    alias("kRSA", K_RSA, 0, 0, 0),
    alias("kEDH", K_DHE, 0, 0, 0),
    alias("kDHE", K_DHE, 0, 0, 0),
    alias("DH", K_DHE, 0, 0, 0),
    alias("kEECDH", K_ECDHE, 0, 0, 0),
    alias("kECDHE", K_ECDHE, 0, 0, 0),
    alias("ECDH", K_ECDHE, 0, 0, 0),
    alias("kPSK", K_PSK, 0, 0, 0),
    alias("kRSAPSK", K_RSAPSK, 0, 0, 0),
    alias("kECDHEPSK", K_ECDHEPSK, 0, 0, 0),
    alias("kDHEPSK", K_DHEPSK, 0, 0, 0),
    alias("kSRP", K_SRP, 0, 0, 0),
    alias("kGOST", K_GOST, 0, 0, 0),
    alias("kGOST18", K_GOST18, 0, 0, 0),
    // Server authentication.
    alias("aRSA", 0, A_RSA, 0, 0),
    alias("aDSS", 0, A_DSS, 0, 0),
    alias("DSS", 0, A_DSS, 0, 0),
    alias("aNULL", 0, A_NULL, 0, 0),
    alias("aECDSA", 0, A_ECDSA, 0, 0),
    alias("ECDSA", 0, A_ECDSA, 0, 0),
    alias("aPSK", 0, A_PSK, 0, 0),
    alias("aGOST01", 0, A_GOST01, 0, 0),
    alias("aGOST12", 0, A_GOST12, 0, 0),
    alias("aGOST", 0, A_GOST01 | A_GOST12, 0, 0),
    alias("aSRP", 0, A_SRP, 0, 0),
    // Key exchange and authentication together.
    alias("EDH", K_DHE, !A_NULL, 0, 0),
    alias("DHE", K_DHE, !A_NULL, 0, 0),
    alias("EECDH", K_ECDHE, !A_NULL, 0, 0),
    alias("ECDHE", K_ECDHE, !A_NULL, 0, 0),
    alias("NULL", 0, 0, E_NULL, 0),
    alias("RSA", K_RSA, A_RSA, 0, 0),
    alias("ADH", K_DHE, A_NULL, 0, 0),
    alias("AECDH", K_ECDHE, A_NULL, 0, 0),
    alias("PSK", K_ANY_PSK, 0, 0, 0),
    alias("SRP", K_SRP, 0, 0, 0),
    // Symmetric encryption.
    alias("3DES", 0, 0, E_3DES, 0),
    alias("RC4", 0, 0, E_RC4, 0),
    alias("RC2", 0, 0, E_RC2, 0),
    alias("IDEA", 0, 0, E_IDEA, 0),
    alias("SEED", 0, 0, E_SEED, 0),
    alias("eNULL", 0, 0, E_NULL, 0),
    alias(
        "GOST89",
        0,
        0,
        E_GOST89 | E_GOST89_12 | E_MAGMA | E_KUZNYECHIK,
        0,
    ),
    alias(
        "AES128",
        0,
        0,
        E_AES128 | E_AES128GCM | E_AES128CCM | E_AES128CCM8,
        0,
    ),
    alias(
        "AES256",
        0,
        0,
        E_AES256 | E_AES256GCM | E_AES256CCM | E_AES256CCM8,
        0,
    ),
    alias("AES", 0, 0, E_AES, 0),
    alias("AESGCM", 0, 0, E_AESGCM, 0),
    alias("AESCCM", 0, 0, E_AESCCM, 0),
    alias("AESCCM8", 0, 0, E_AESCCM8, 0),
    alias("CAMELLIA128", 0, 0, E_CAMELLIA128, 0),
    alias("CAMELLIA256", 0, 0, E_CAMELLIA256, 0),
    alias("CAMELLIA", 0, 0, E_CAMELLIA, 0),
    alias("CHACHA20", 0, 0, E_CHACHA20POLY1305, 0),
    alias("GOST2012-GOST8912-GOST8912", 0, 0, E_GOST89_12, 0),
    alias("ARIA", 0, 0, E_ARIA, 0),
    alias("ARIAGCM", 0, 0, E_ARIA, 0),
    alias("ARIA128", 0, 0, E_ARIA128GCM, 0),
    alias("ARIA256", 0, 0, E_ARIA256GCM, 0),
    alias("CBC", 0, 0, E_CBC, 0),
    // Record MAC.
    alias("MD5", 0, 0, 0, M_MD5),
    alias("SHA1", 0, 0, 0, M_SHA1),
    alias("SHA", 0, 0, 0, M_SHA1),
    alias("GOST94", 0, 0, 0, M_GOST94),
    alias("GOST89MAC", 0, 0, 0, M_GOST89MAC | M_GOST89MAC12),
    alias("SHA256", 0, 0, 0, M_SHA256),
    alias("SHA384", 0, 0, 0, M_SHA384),
    alias("GOST12", 0, 0, 0, M_GOST12_256),
    // Protocol version: a cipher matches when its *minimum* version is exactly this one.
    protocol_alias("SSLv3", SSL3),
    protocol_alias("TLSv1", TLS1),
    protocol_alias("TLSv1.0", TLS1),
    protocol_alias("TLSv1.2", TLS1_2),
    // Strength classes.
    strength_alias("LOW", 0, LOW),
    strength_alias("MEDIUM", 0, MEDIUM),
    strength_alias("HIGH", 0, HIGH),
    strength_alias("FIPS", !E_NULL, FIPS),
    // Old "EDH-" names of 3DES ciphers OpenSSL 3 no longer compiles; they select nothing.
    Alias {
        name: "EDH-DSS-DES-CBC3-SHA",
        attrs: Attrs {
            mkey: K_DHE,
            auth: A_DSS,
            enc: E_3DES,
            mac: M_SHA1,
            min_tls: 0,
            strength: HIGH | FIPS,
        },
    },
    Alias {
        name: "EDH-RSA-DES-CBC3-SHA",
        attrs: Attrs {
            mkey: K_DHE,
            auth: A_RSA,
            enc: E_3DES,
            mac: M_SHA1,
            min_tls: 0,
            strength: HIGH | FIPS,
        },
    },
];

/// What a name in a cipher string refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Named {
    /// A cipher, by its index in [`CIPHERS`].
    Cipher(usize),
    Alias(&'static Alias),
}

impl Named {
    pub(crate) fn attrs(self) -> Attrs {
        match self {
            Named::Cipher(index) => CIPHERS[index].attrs,
            Named::Alias(alias) => alias.attrs,
        }
    }
}

/// Looks a name up as OpenSSL does: exact and case-sensitive, ciphers before aliases.
pub(crate) fn lookup(name: &str) -> Option<Named> {
    if let Some(index) = CIPHERS.iter().position(|cipher| cipher.name == name) {
        return Some(Named::Cipher(index));
    }
    ALIASES
        .iter()
        .find(|alias| alias.name == name)
        .map(Named::Alias)
}

/// Every TLS ≤ 1.2 cipher OpenSSL 3.0 knows, in its pre-sorted order.
pub fn openssl_ciphers() -> &'static [OpensslCipher] {
    &CIPHERS
}

/// The cipher with this OpenSSL name.
pub fn openssl_cipher(name: &str) -> Option<&'static OpensslCipher> {
    CIPHERS.iter().find(|cipher| cipher.name == name)
}

/// The OpenSSL name of the TLS ≤ 1.2 cipher with this IANA name.
pub(crate) fn openssl_name_of_iana(iana_name: &str) -> Option<&'static str> {
    CIPHERS
        .iter()
        .find(|cipher| cipher.iana_name == iana_name)
        .map(|cipher| cipher.name)
}

/// An alias or cipher name equal to `name` up to ASCII case, for "did you mean" hints.
pub(crate) fn case_insensitive_match(name: &str) -> Option<&'static str> {
    CIPHERS
        .iter()
        .map(|cipher| cipher.name)
        .chain(ALIASES.iter().map(|alias| alias.name))
        .find(|known| known.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_across_ciphers_and_aliases() {
        let mut names: Vec<&str> = CIPHERS
            .iter()
            .map(|cipher| cipher.name)
            .chain(ALIASES.iter().map(|alias| alias.name))
            .collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total);
    }

    #[test]
    fn every_cipher_has_one_algorithm_per_field() {
        for cipher in &CIPHERS {
            let attrs = cipher.attrs;
            for field in [attrs.mkey, attrs.auth, attrs.enc, attrs.mac] {
                assert_eq!(field.count_ones(), 1, "{}", cipher.name);
            }
            assert_ne!(attrs.min_tls, 0, "{}", cipher.name);
            let strength_class = attrs.strength & (STRONG_NONE | LOW | MEDIUM | HIGH);
            assert_eq!(strength_class.count_ones(), 1, "{}", cipher.name);
        }
    }

    #[test]
    fn the_six_rustls_suites_are_ecdhe_aead_rows() {
        use crate::tls::Tls12Suite;
        for suite in Tls12Suite::ALL {
            let cipher = openssl_cipher(suite.openssl_name()).expect("in table");
            assert_eq!(cipher.iana_name(), suite.iana_name());
            assert_eq!(cipher.attrs.mkey, K_ECDHE);
            assert_eq!(cipher.attrs.mac, M_AEAD);
        }
    }

    #[test]
    fn lookup_prefers_exact_case() {
        assert!(matches!(lookup("HIGH"), Some(Named::Alias(_))));
        assert_eq!(lookup("high"), None);
        assert_eq!(case_insensitive_match("high"), Some("HIGH"));
        assert!(matches!(lookup("AES128-SHA"), Some(Named::Cipher(_))));
        assert_eq!(
            openssl_name_of_iana("TLS_RSA_WITH_AES_128_CBC_SHA"),
            Some("AES128-SHA")
        );
    }
}
