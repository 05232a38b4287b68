//! The two secret files of the `pve` realm and of API tokens, both under `/etc/pve/priv/`.
//!
//! - `token.cfg`: lines `<tokenid> <secret>`. pmxcfs (`src/pmxcfs/server.c`,
//!   `CFS_IPC_VERIFY_TOKEN`) accepts a token when the line `<tokenid> <secret>` is in the file
//!   exactly; [`TokenSecrets::verify`] answers the same, comparing secrets in constant time.
//! - `shadow.cfg`: lines `<userid>:<crypt hash>:` (pve-access-control `src/PVE/Auth/PVE.pm`);
//!   lines that do not match `^\S+:\S+:$` after trimming are skipped. Checking a password
//!   against the hash is done elsewhere.

use std::collections::BTreeMap;

use super::ids::{Tokenid, Userid};
use super::user_cfg::{LineWarning, Parsed};
use crate::constant_time;

/// `/etc/pve/priv/token.cfg`: the secret of every API token, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSecrets {
    /// (token id, secret) per line; the secret is the rest of the line after the first space.
    lines: Vec<(String, String)>,
}

impl TokenSecrets {
    /// Reads `token.cfg`; `None` is a missing file (no token verifies). Nothing in it is an
    /// error: a line without a space can never match a token and is left out, as it can never
    /// match in pmxcfs either.
    pub fn parse(text: Option<&str>) -> TokenSecrets {
        let lines = text
            .unwrap_or("")
            .split('\n')
            .filter_map(|line| line.split_once(' '))
            .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
            .collect();
        TokenSecrets { lines }
    }

    /// Whether `secret` is the secret of `token`: the line `<token> <secret>` is in the file.
    /// Every line of the token is compared in full, in time independent of where they differ.
    pub fn verify(&self, token: &Tokenid, secret: &str) -> bool {
        let id = token.to_string();
        self.lines
            .iter()
            .filter(|(line_id, _)| *line_id == id)
            .fold(false, |found, (_, stored)| {
                found | constant_time::eq(stored.as_bytes(), secret.as_bytes())
            })
    }

    /// Sets a token's secret, replacing any it had (`pveum user token add` writes a new line).
    pub fn set(&mut self, token: &Tokenid, secret: &str) {
        let id = token.to_string();
        self.lines.retain(|(line_id, _)| *line_id != id);
        self.lines.push((id, secret.to_owned()));
    }

    /// Removes a token's secret (`pveum user token remove`); whether it had one.
    pub fn remove(&mut self, token: &Tokenid) -> bool {
        let id = token.to_string();
        let before = self.lines.len();
        self.lines.retain(|(line_id, _)| *line_id != id);
        self.lines.len() != before
    }

    /// The file's text, one `<tokenid> <secret>` line per token, in file order.
    pub fn render(&self) -> String {
        self.lines
            .iter()
            .map(|(id, secret)| format!("{id} {secret}\n"))
            .collect()
    }
}

/// `/etc/pve/priv/shadow.cfg`: user id → crypt hash of the `pve` realm's users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shadow {
    /// Keyed by the id as written (Proxmox does not check it is a valid user id).
    hashes: BTreeMap<String, String>,
}

impl Shadow {
    /// Reads `shadow.cfg`; `None` is a missing file (nobody has a password). A line that is not
    /// `<userid>:<hash>:` is skipped with a warning, as Proxmox does.
    pub fn parse(text: Option<&str>) -> Parsed<Shadow> {
        let mut shadow = Shadow::default();
        let mut warnings = Vec::new();
        for (index, raw) in text.unwrap_or("").split('\n').enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            match shadow_line(line) {
                Some((userid, hash)) => {
                    shadow.hashes.insert(userid.to_owned(), hash.to_owned());
                }
                None => warnings.push(LineWarning {
                    line: index + 1,
                    message: "ignoring line: not '<userid>:<password hash>:'".to_owned(),
                }),
            }
        }
        Parsed {
            config: shadow,
            warnings,
        }
    }

    /// The stored hash of a user, if any.
    pub fn hash(&self, userid: &Userid) -> Option<&str> {
        self.hashes.get(userid.as_str()).map(String::as_str)
    }

    /// Stores a user's hash (`pveum passwd` for the `pve` realm). A crypt hash never holds `:`
    /// or whitespace; one that does is refused, since it could not be read back.
    pub fn set(&mut self, userid: &Userid, hash: &str) -> Result<(), BadHash> {
        if hash.is_empty() || hash.contains(|c: char| c == ':' || c.is_whitespace()) {
            return Err(BadHash);
        }
        self.hashes.insert(userid.to_string(), hash.to_owned());
        Ok(())
    }

    /// Removes a user's hash (when the user is deleted); whether there was one.
    pub fn remove(&mut self, userid: &Userid) -> bool {
        self.hashes.remove(userid.as_str()).is_some()
    }

    /// The file's text, one `<userid>:<hash>:` line per user, sorted by user id.
    ///
    /// Difference: Proxmox writes the lines in Perl hash order; the content is the same.
    pub fn render(&self) -> String {
        self.hashes
            .iter()
            .map(|(userid, hash)| format!("{userid}:{hash}:\n"))
            .collect()
    }
}

/// A password hash that cannot be stored in `shadow.cfg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a password hash must be non-empty and hold no ':' or whitespace")]
pub struct BadHash;

/// `^\S+:\S+:$`, then Proxmox's `split(/\s*:\s*/)`: the first two fields.
fn shadow_line(line: &str) -> Option<(&str, &str)> {
    let body = line.strip_suffix(':')?;
    if body.contains(char::is_whitespace) {
        return None;
    }
    let (userid, rest) = body.split_once(':')?;
    // `\S` matches ':' too, so `a:b:c:` is a valid line whose hash is `b`.
    let hash = rest.split(':').next().unwrap_or(rest);
    (!userid.is_empty() && !hash.is_empty()).then_some((userid, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Tokenid {
        Tokenid::parse(text).expect("valid token id")
    }

    #[test]
    fn token_secrets_verify_exact_lines() {
        let secrets = TokenSecrets::parse(Some(
            "monitor@pve!grafana 4e3c6a0e-7b1d-4c1e-9a8f-0f2b3c4d5e6f\n\
             root@pam!ci 11111111-2222-3333-4444-555555555555\n\
             broken-line-without-space\n",
        ));
        let grafana = token("monitor@pve!grafana");
        assert!(secrets.verify(&grafana, "4e3c6a0e-7b1d-4c1e-9a8f-0f2b3c4d5e6f"));
        assert!(!secrets.verify(&grafana, "4e3c6a0e-7b1d-4c1e-9a8f-0f2b3c4d5e6"));
        assert!(!secrets.verify(&grafana, "11111111-2222-3333-4444-555555555555"));
        assert!(!secrets.verify(&token("monitor@pve!other"), "x"));
        // Exact line match: trailing whitespace is part of the secret.
        let spaced = TokenSecrets::parse(Some("a@pve!tok secret \n"));
        assert!(!spaced.verify(&token("a@pve!tok"), "secret"));
        assert!(spaced.verify(&token("a@pve!tok"), "secret "));
        assert!(!TokenSecrets::parse(None).verify(&grafana, ""));
    }

    #[test]
    fn token_secrets_set_remove_render() {
        let mut secrets = TokenSecrets::parse(Some("a@pve!one s1\nb@pve!two s2\n"));
        secrets.set(&token("a@pve!one"), "s3");
        assert!(secrets.verify(&token("a@pve!one"), "s3"));
        assert!(!secrets.verify(&token("a@pve!one"), "s1"));
        assert_eq!(secrets.render(), "b@pve!two s2\na@pve!one s3\n");
        assert!(secrets.remove(&token("b@pve!two")));
        assert!(!secrets.remove(&token("b@pve!two")));
        assert_eq!(TokenSecrets::parse(Some(&secrets.render())), secrets);
    }

    #[test]
    fn shadow_reads_valid_lines_and_skips_others() {
        let parsed = Shadow::parse(Some(
            "alice@pve:$5$abcdefgh$hash:\n\
             \n\
             bob@pve:$y$j9T$salt$hash:\n\
             broken line:x:\n\
             nohash@pve::\n\
             empty@pve::x:\n\
             carol@pve:$5$x$y:extra:\n",
        ));
        let alice = Userid::parse("alice@pve").expect("valid");
        assert_eq!(parsed.config.hash(&alice), Some("$5$abcdefgh$hash"));
        let carol = Userid::parse("carol@pve").expect("valid");
        assert_eq!(parsed.config.hash(&carol), Some("$5$x$y"));
        let lines: Vec<usize> = parsed.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert_eq!(Shadow::parse(None).config, Shadow::default());
    }

    #[test]
    fn shadow_set_and_render() {
        let mut shadow = Shadow::default();
        let bob = Userid::parse("bob@pve").expect("valid");
        let alice = Userid::parse("alice@pve").expect("valid");
        shadow.set(&bob, "$5$s$h").expect("storable");
        shadow.set(&alice, "$5$t$i").expect("storable");
        assert_eq!(shadow.set(&alice, "has:colon"), Err(BadHash));
        assert_eq!(shadow.set(&alice, ""), Err(BadHash));
        assert_eq!(shadow.render(), "alice@pve:$5$t$i:\nbob@pve:$5$s$h:\n");
        assert_eq!(Shadow::parse(Some(&shadow.render())).config, shadow);
        assert!(shadow.remove(&bob));
        assert_eq!(shadow.hash(&bob), None);
    }
}
