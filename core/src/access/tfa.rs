//! `/etc/pve/priv/tfa.cfg`: users' second factors, JSON written by proxmox-rs `proxmox-tfa`
//! (`{"users": {"<userid>": {"totp": [...], "u2f": [...], "webauthn": [...], "yubico": [...],
//! "recovery": {...}}}, "u2f"?: ..., "webauthn"?: ...}`). Each factor entry carries its info
//! flattened in (`id`, `description`, `created`, `enable` defaulting to true).
//!
//! corral only needs to know whether login must ask for a second factor; verifying factors is
//! done elsewhere.

use serde_json::Value;

use super::ids::Userid;

/// The factor lists of a user entry.
const FACTOR_LISTS: [&str; 4] = ["totp", "u2f", "webauthn", "yubico"];

/// Why `tfa.cfg` cannot be used. A broken file must not read as "nobody has TFA".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TfaError {
    #[error("tfa.cfg is not valid JSON: {0}")]
    Json(String),
    #[error("tfa.cfg: {0}")]
    Shape(&'static str),
}

/// The parsed `tfa.cfg`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TfaConfig {
    /// The `users` object (empty for a missing file).
    users: serde_json::Map<String, Value>,
}

impl TfaConfig {
    /// Reads `tfa.cfg`. `None`, an empty or all-whitespace text is a missing file: nobody has a
    /// second factor. Text that is not a JSON object with an object `users` (if present) is an
    /// error.
    pub fn parse(text: Option<&str>) -> Result<TfaConfig, TfaError> {
        let text = text.unwrap_or("");
        if text.trim().is_empty() {
            return Ok(TfaConfig::default());
        }
        let value: Value =
            serde_json::from_str(text).map_err(|error| TfaError::Json(error.to_string()))?;
        let Value::Object(mut top) = value else {
            return Err(TfaError::Shape("the top level is not a JSON object"));
        };
        match top.remove("users") {
            None | Some(Value::Null) => Ok(TfaConfig::default()),
            Some(Value::Object(users)) => Ok(TfaConfig { users }),
            Some(_) => Err(TfaError::Shape("'users' is not a JSON object")),
        }
    }

    /// Whether the user has a second factor login must ask for: an entry in `totp`, `u2f`,
    /// `webauthn` or `yubico` that is not `"enable": false`, or recovery keys with at least one
    /// key left.
    pub fn has_second_factor(&self, userid: &Userid) -> bool {
        let Some(Value::Object(user)) = self.users.get(userid.as_str()) else {
            return false;
        };
        let enabled_factor = FACTOR_LISTS.iter().any(|list| {
            user.get(*list)
                .and_then(Value::as_array)
                .is_some_and(|entries| entries.iter().any(is_enabled))
        });
        enabled_factor || user.get("recovery").is_some_and(has_recovery_keys)
    }
}

/// An entry is enabled unless it says `"enable": false`.
fn is_enabled(entry: &Value) -> bool {
    entry.get("enable").and_then(Value::as_bool) != Some(false)
}

/// Recovery keys count when present and not used up: an `entries` list with a key left (used
/// keys are `null`), or any other non-null value.
fn has_recovery_keys(recovery: &Value) -> bool {
    match recovery.get("entries").and_then(Value::as_array) {
        Some(entries) => entries.iter().any(|entry| !entry.is_null()),
        None => !recovery.is_null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Userid {
        Userid::parse(text).expect("valid user id")
    }

    const EXAMPLE: &str = r#"{
        "webauthn": {"rp": "pve.example", "origin": "https://pve.example:8006", "id": "pve.example"},
        "users": {
            "totp@pve": {"totp": [{"id": "t1", "description": "phone", "created": 1700000000,
                                   "entry": "otpauth://totp/x?secret=ABC"}]},
            "off@pve": {"totp": [{"id": "t1", "description": "old", "created": 1, "enable": false,
                                  "entry": "otpauth://totp/x?secret=ABC"}]},
            "key@pve": {"webauthn": [{"id": "w1", "description": "key", "created": 1,
                                      "entry": {}}], "totp": []},
            "recovery@pve": {"recovery": {"secret": "s", "created": 1,
                                          "entries": [null, "hash2"]}},
            "used@pve": {"recovery": {"secret": "s", "created": 1, "entries": [null, null]}},
            "empty@pve": {"totp": [], "u2f": [], "webauthn": [], "yubico": []}
        }
    }"#;

    #[test]
    fn tells_who_needs_a_second_factor() {
        let tfa = TfaConfig::parse(Some(EXAMPLE)).expect("valid");
        for (id, expected) in [
            ("totp@pve", true),
            ("off@pve", false),
            ("key@pve", true),
            ("recovery@pve", true),
            ("used@pve", false),
            ("empty@pve", false),
            ("nobody@pve", false),
        ] {
            assert_eq!(tfa.has_second_factor(&user(id)), expected, "{id}");
        }
    }

    #[test]
    fn a_missing_file_means_no_tfa() {
        for text in [
            None,
            Some(""),
            Some("  \n"),
            Some("{}"),
            Some(r#"{"users": null}"#),
        ] {
            let tfa = TfaConfig::parse(text).expect("no TFA");
            assert!(!tfa.has_second_factor(&user("root@pam")));
        }
    }

    #[test]
    fn a_broken_file_is_an_error() {
        assert!(matches!(
            TfaConfig::parse(Some("{\"users\": {")),
            Err(TfaError::Json(_))
        ));
        assert_eq!(
            TfaConfig::parse(Some("[]")),
            Err(TfaError::Shape("the top level is not a JSON object"))
        );
        assert_eq!(
            TfaConfig::parse(Some(r#"{"users": []}"#)),
            Err(TfaError::Shape("'users' is not a JSON object"))
        );
    }
}
