//! An evaluator for OpenSSL cipher strings (`CIPHERS`, TLS ≤ 1.2).
//!
//! It follows OpenSSL 3.0's `ssl_create_cipher_list`, `ssl_cipher_process_rulestr` and
//! `ssl_cipher_apply_rule` step by step, so that the resulting list, in order, is the one
//! OpenSSL — and so Proxmox — would use. `tools/openssl-ciphers.sh` records real OpenSSL output
//! for a set of strings and `core/tests/openssl_compat.rs` checks this evaluator against it.
//!
//! How OpenSSL reads a string:
//! - Elements are separated by `:`, `,`, `;` or spaces.
//! - An element is a name, or several joined by `+` (`ECDHE+AESGCM`), which selects the ciphers
//!   matching all of them. A name is a cipher (`ECDHE-RSA-AES128-GCM-SHA256`) or an alias (`HIGH`,
//!   `kECDHE`, …); names are case-sensitive and made of letters, digits, `-`, `.` and `=`.
//! - A plain element appends the selected ciphers not yet in the list, at the end; `-X` removes
//!   them (a later element can add them back); `!X` removes them for good; `+X` moves those in
//!   the list to the end. `@STRENGTH` sorts the list by symmetric key size (stable);
//!   `@SECLEVEL=n` sets OpenSSL's security level.
//! - Ciphers keep a hidden order even when not in the list: OpenSSL's pre-sorted table order, and
//!   a `-X` puts the removed ones first, so a later alias re-adds them before the others.
//! - The string may *start* with `DEFAULT` (= `ALL:!COMPLEMENTOFDEFAULT:!eNULL`) or with a Suite
//!   B keyword (`SUITEB128`, `SUITEB128ONLY`, `SUITEB128C2`, `SUITEB192`), which replaces the
//!   whole string. Elsewhere `DEFAULT` is just an unknown name.
//! - An unknown name makes OpenSSL skip its element silently. A character outside the grammar, a
//!   `+` or operator with no name after it, or an unknown `@` command makes the whole string
//!   invalid.
//!
//! Differences, all on purpose: unknown names, TLS 1.3 names and elements that select nothing
//! come back as [`CipherNote`]s instead of being silent; `@SECLEVEL` and the Suite B keywords
//! are accepted but have no effect beyond the cipher list (rustls has no security levels and no
//! Suite B mode), which a note says. Names are matched only by their OpenSSL name, as in
//! OpenSSL 3.0 (an IANA name is unknown there; the note then gives the OpenSSL name).

use std::fmt;

use thiserror::Error;

use super::openssl_table::{self, Attrs, CIPHERS, DEFAULT_MASK, Named, OpensslCipher, STRONG_MASK};

/// What a bare `DEFAULT` at the start of a cipher string means in OpenSSL 3.0
/// (`OSSL_default_cipher_list()`).
pub const OPENSSL_DEFAULT_CIPHER_RULES: &str = "ALL:!COMPLEMENTOFDEFAULT:!eNULL";

/// The names OpenSSL accepts in `CIPHERSUITES` (TLS 1.3); in a cipher string they are unknown.
pub(crate) const TLS13_OPENSSL_NAMES: [&str; 5] = [
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
];

/// Suite B keywords, checked in OpenSSL's order (longest first where they share a prefix), and
/// the cipher string each one replaces the whole string with.
const SUITE_B: [(&str, &str); 4] = [
    ("SUITEB128ONLY", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("SUITEB128C2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    (
        "SUITEB128",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
    ),
    ("SUITEB192", "ECDHE-ECDSA-AES256-GCM-SHA384"),
];

/// The result of evaluating a cipher string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherList {
    /// The ciphers OpenSSL would use, in preference order. May be empty: OpenSSL then refuses
    /// the string ("no cipher match"); deciding that is the caller's business.
    pub ciphers: Vec<&'static OpensslCipher>,
    /// Remarks on elements OpenSSL ignores or that have no effect here, in string order.
    pub notes: Vec<CipherNote>,
}

impl CipherList {
    /// The OpenSSL names of [`CipherList::ciphers`], in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.ciphers.iter().map(|cipher| cipher.name()).collect()
    }
}

/// A remark on one element of a cipher string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CipherNote {
    /// Neither a cipher nor an alias OpenSSL 3.0 knows; OpenSSL skips the element silently.
    UnknownName {
        name: String,
        hint: Option<NameHint>,
    },
    /// A TLS 1.3 suite name: those are set with `CIPHERSUITES`; OpenSSL skips it here.
    Tls13Name { name: String },
    /// A plain element that selects no cipher at all (e.g. `ECDHE+RSA`: `RSA` means RSA key
    /// exchange, which excludes ECDHE; or `RC4`, which OpenSSL 3 no longer compiles).
    SelectsNothing { element: String },
    /// `@SECLEVEL=n`: accepted, but it means nothing to rustls (its suites all pass level 3).
    SecLevelIgnored { level: u8 },
    /// A Suite B keyword: OpenSSL replaced the whole string with `replacement`; rustls has no
    /// Suite B mode, so its curve and signature restrictions are not applied.
    SuiteBIgnored {
        keyword: &'static str,
        replacement: &'static str,
    },
}

/// A guess at what an unknown name was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameHint {
    /// An IANA name; OpenSSL 3.0 only knows this OpenSSL name for it.
    OpensslName(&'static str),
    /// The name exists with different letter case.
    Case(&'static str),
    /// `DEFAULT` works only at the very start of the string.
    DefaultOnlyFirst,
}

impl fmt::Display for CipherNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CipherNote::UnknownName { name, hint } => {
                write!(
                    f,
                    "unknown cipher name \"{name}\", ignored (OpenSSL ignores it too)"
                )?;
                match hint {
                    Some(NameHint::OpensslName(openssl)) => {
                        write!(f, "; OpenSSL calls this cipher \"{openssl}\"")
                    }
                    Some(NameHint::Case(known)) => {
                        write!(f, "; names are case-sensitive: did you mean \"{known}\"?")
                    }
                    Some(NameHint::DefaultOnlyFirst) => {
                        f.write_str("; DEFAULT is only special at the start of the list")
                    }
                    None => Ok(()),
                }
            }
            CipherNote::Tls13Name { name } => write!(
                f,
                "\"{name}\" is a TLS 1.3 suite, which CIPHERS cannot select \
                 (OpenSSL ignores it too); TLS 1.3 suites are set with CIPHERSUITES"
            ),
            CipherNote::SelectsNothing { element } => {
                write!(
                    f,
                    "\"{element}\" selects no cipher (OpenSSL ignores it too)"
                )
            }
            CipherNote::SecLevelIgnored { level } => write!(
                f,
                "@SECLEVEL={level} has no effect: rustls has no security levels \
                 (every suite it offers passes OpenSSL's level 3)"
            ),
            CipherNote::SuiteBIgnored {
                keyword,
                replacement,
            } => write!(
                f,
                "{keyword} makes OpenSSL use only \"{replacement}\" and ignore the rest of the \
                 list; its Suite B curve and signature restrictions are not applied by rustls"
            ),
        }
    }
}

/// A cipher string OpenSSL would refuse as malformed (Proxmox then fails to start its workers).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CipherStringError {
    /// A character outside the grammar, or nothing after an operator or `+`.
    #[error(
        "{} at column {column} (names are made of letters, digits, '-', '.' and '='; \
         elements are separated by ':', ',', ';' or spaces; '+' joins names)",
        describe_found(.found)
    )]
    Unexpected {
        /// 1-based character column in the string.
        column: usize,
        /// `None` at the end of the string.
        found: Option<char>,
    },
    /// An `@` command other than `@STRENGTH` and `@SECLEVEL=0`…`5`.
    #[error("unknown command \"@{command}\" (OpenSSL knows @STRENGTH and @SECLEVEL=0 to 5)")]
    UnknownCommand { command: String },
}

fn describe_found(found: &Option<char>) -> String {
    match found {
        Some(character) => format!("unexpected character {character:?}"),
        None => "a name is missing".to_owned(),
    }
}

/// Evaluates an OpenSSL cipher string as OpenSSL 3.0 does.
///
/// Never panics; runs in O(elements × 155).
pub fn evaluate_cipher_string(rules: &str) -> Result<CipherList, CipherStringError> {
    let mut evaluation = Evaluation::presorted();
    if let Some((keyword, replacement)) = suite_b(rules) {
        evaluation.notes.push(CipherNote::SuiteBIgnored {
            keyword,
            replacement,
        });
        evaluation.process(replacement, 0)?;
    } else if let Some(rest) = rules.strip_prefix("DEFAULT") {
        evaluation.process(OPENSSL_DEFAULT_CIPHER_RULES, 0)?;
        let skip = if rest.starts_with(':') { 8 } else { 7 };
        evaluation.process(rules, skip)?;
    } else {
        evaluation.process(rules, 0)?;
    }
    Ok(evaluation.finish())
}

fn suite_b(rules: &str) -> Option<(&'static str, &'static str)> {
    SUITE_B
        .into_iter()
        .find(|(keyword, _)| rules.starts_with(keyword))
}

/// The operator in front of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// No operator: append what is not in the list yet.
    Add,
    /// `-`: take out of the list (may come back).
    Delete,
    /// `!`: take out for good.
    Kill,
    /// `+`: move to the end.
    MoveToEnd,
    /// `@`: a command.
    Command,
}

impl Rule {
    fn from_first_byte(byte: u8) -> Rule {
        match byte {
            b'-' => Rule::Delete,
            b'!' => Rule::Kill,
            b'+' => Rule::MoveToEnd,
            b'@' => Rule::Command,
            _ => Rule::Add,
        }
    }
}

fn is_item_separator(byte: u8) -> bool {
    matches!(byte, b':' | b' ' | b';' | b',')
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'=')
}

/// The end of the name starting at `from`.
fn scan_name(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while bytes.get(at).is_some_and(|&byte| is_name_byte(byte)) {
        at += 1;
    }
    at
}

/// The position of the next separator at or after `from` (or the end).
fn skip_to_separator(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while bytes.get(at).is_some_and(|&byte| !is_item_separator(byte)) {
        at += 1;
    }
    at
}

/// `text[from..to]`, or "" if that is not a valid slice (it always is: every position we stop
/// at is next to an ASCII byte, hence a character boundary).
fn slice(text: &str, from: usize, to: usize) -> &str {
    text.get(from..to).unwrap_or_default()
}

fn unexpected(text: &str, at: usize) -> CipherStringError {
    CipherStringError::Unexpected {
        column: text.get(..at).map_or(at, |before| before.chars().count()) + 1,
        found: text.get(at..).and_then(|rest| rest.chars().next()),
    }
}

/// A cipher in OpenSSL's working list: present in the table order, in the result if `active`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: usize,
    active: bool,
}

/// What an element selects: OpenSSL's rule parameters after combining its `+`-joined names.
#[derive(Debug, Clone, Copy, Default)]
struct Selector {
    /// Set when the last name was a cipher: then only that cipher can match.
    cipher: Option<usize>,
    attrs: Attrs,
}

impl Selector {
    /// Narrows by one more name; `false` when the combination can match nothing, in which case
    /// OpenSSL drops the element.
    fn narrow(&mut self, named: Named) -> bool {
        let with = named.attrs();
        self.cipher = None;
        let mine = &mut self.attrs;
        for (current, added) in [
            (&mut mine.mkey, with.mkey),
            (&mut mine.auth, with.auth),
            (&mut mine.enc, with.enc),
            (&mut mine.mac, with.mac),
        ] {
            if !intersect(current, added) {
                return false;
            }
        }
        if !narrow_strength(&mut mine.strength, with.strength) {
            return false;
        }
        match named {
            // An explicit cipher's protocol is not part of the pattern (as in OpenSSL).
            Named::Cipher(index) => self.cipher = Some(index),
            Named::Alias(_) if with.min_tls != 0 => {
                if mine.min_tls != 0 && mine.min_tls != with.min_tls {
                    return false;
                }
                mine.min_tls = with.min_tls;
            }
            Named::Alias(_) => {}
        }
        true
    }

    fn matches(&self, index: usize) -> bool {
        let Some(cipher) = CIPHERS.get(index) else {
            return false;
        };
        let theirs = cipher.attrs;
        let mine = self.attrs;
        let bits_match = |want: u32, have: u32| want == 0 || want & have != 0;
        self.cipher.is_none_or(|only| only == index)
            && bits_match(mine.mkey, theirs.mkey)
            && bits_match(mine.auth, theirs.auth)
            && bits_match(mine.enc, theirs.enc)
            && bits_match(mine.mac, theirs.mac)
            && (mine.min_tls == 0 || mine.min_tls == theirs.min_tls)
            && bits_match(mine.strength & STRONG_MASK, theirs.strength)
            && bits_match(mine.strength & DEFAULT_MASK, theirs.strength)
    }

    fn selects_any_cipher(&self) -> bool {
        (0..CIPHERS.len()).any(|index| self.matches(index))
    }
}

/// One algorithm field of a `+` combination: 0 means "any", otherwise the bits intersect.
fn intersect(current: &mut u32, added: u32) -> bool {
    if added == 0 {
        return true;
    }
    if *current == 0 {
        *current = added;
        return true;
    }
    *current &= added;
    *current != 0
}

/// The strength field of a `+` combination, with OpenSSL's quirk kept: the first name with a
/// strength class *replaces* the field, dropping a `COMPLEMENTOFDEFAULT` seen before it.
fn narrow_strength(current: &mut u32, added: u32) -> bool {
    if added & STRONG_MASK != 0 {
        if *current & STRONG_MASK != 0 {
            *current &= (added & STRONG_MASK) | !STRONG_MASK;
            if *current & STRONG_MASK == 0 {
                return false;
            }
        } else {
            *current = added & STRONG_MASK;
        }
    }
    if added & DEFAULT_MASK != 0 {
        if *current & DEFAULT_MASK != 0 {
            *current &= (added & DEFAULT_MASK) | !DEFAULT_MASK;
            if *current & DEFAULT_MASK == 0 {
                return false;
            }
        } else {
            *current |= added & DEFAULT_MASK;
        }
    }
    true
}

/// How the `+`-joined names of one element resolved.
enum Parts {
    /// All names known and compatible.
    Selected(Selector),
    /// The name starting at this position is unknown.
    Unknown { name_at: usize },
    /// Known names that exclude each other.
    Incompatible,
}

/// OpenSSL's working list and our notes while a string is evaluated.
struct Evaluation {
    order: Vec<Slot>,
    notes: Vec<CipherNote>,
}

impl Evaluation {
    fn presorted() -> Evaluation {
        Evaluation {
            order: (0..CIPHERS.len())
                .map(|index| Slot {
                    index,
                    active: false,
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    fn finish(self) -> CipherList {
        let ciphers = self
            .order
            .iter()
            .filter(|slot| slot.active)
            .filter_map(|slot| CIPHERS.get(slot.index))
            .collect();
        CipherList {
            ciphers,
            notes: self.notes,
        }
    }

    /// `ssl_cipher_process_rulestr` on `text`, starting at byte `from`.
    fn process(&mut self, text: &str, from: usize) -> Result<(), CipherStringError> {
        let bytes = text.as_bytes();
        let mut at = from;
        while let Some(&first) = bytes.get(at) {
            let rule = Rule::from_first_byte(first);
            if rule != Rule::Add {
                at += 1;
            } else if is_item_separator(first) {
                at += 1;
                continue;
            }
            at = match rule {
                Rule::Command => self.command(text, at)?,
                _ => self.element(text, at, rule)?,
            };
        }
        Ok(())
    }

    /// One element after its operator; returns where parsing continues.
    fn element(
        &mut self,
        text: &str,
        start: usize,
        rule: Rule,
    ) -> Result<usize, CipherStringError> {
        let bytes = text.as_bytes();
        let mut at = start;
        let mut selector = Selector::default();
        let parts = loop {
            let name_end = scan_name(bytes, at);
            if name_end == at {
                return Err(unexpected(text, at));
            }
            let name_at = at;
            let name = slice(text, at, name_end);
            at = name_end;
            let joined = bytes.get(at) == Some(&b'+');
            if joined {
                at += 1;
            }
            let Some(named) = openssl_table::lookup(name) else {
                break Parts::Unknown { name_at };
            };
            if !selector.narrow(named) {
                break Parts::Incompatible;
            }
            if !joined {
                break Parts::Selected(selector);
            }
        };
        match parts {
            Parts::Selected(selector) => {
                if rule == Rule::Add && !selector.selects_any_cipher() {
                    self.note_selects_nothing(text, start);
                }
                self.apply(rule, &selector);
                Ok(at)
            }
            Parts::Unknown { name_at } => {
                self.note_unknown(text, name_at);
                Ok(skip_to_separator(bytes, at))
            }
            Parts::Incompatible => {
                if rule == Rule::Add {
                    self.note_selects_nothing(text, start);
                }
                Ok(skip_to_separator(bytes, at))
            }
        }
    }

    fn note_selects_nothing(&mut self, text: &str, start: usize) {
        let end = skip_to_separator(text.as_bytes(), start);
        self.notes.push(CipherNote::SelectsNothing {
            element: slice(text, start, end).to_owned(),
        });
    }

    fn note_unknown(&mut self, text: &str, name_at: usize) {
        let bytes = text.as_bytes();
        let mut end = name_at;
        while bytes
            .get(end)
            .is_some_and(|&byte| !is_item_separator(byte) && byte != b'+')
        {
            end += 1;
        }
        let name = slice(text, name_at, end);
        let note = if TLS13_OPENSSL_NAMES.contains(&name) {
            CipherNote::Tls13Name {
                name: name.to_owned(),
            }
        } else {
            CipherNote::UnknownName {
                name: name.to_owned(),
                hint: hint_for(name),
            }
        };
        self.notes.push(note);
    }

    /// An `@` command (`at` is just after the `@`); returns where parsing continues.
    fn command(&mut self, text: &str, at: usize) -> Result<usize, CipherStringError> {
        let bytes = text.as_bytes();
        let end = scan_name(bytes, at);
        if end == at {
            return Err(unexpected(text, at));
        }
        let command = slice(text, at, end);
        if command == "STRENGTH" {
            self.sort_by_strength();
        } else if let Some(level) = security_level(command) {
            self.notes.push(CipherNote::SecLevelIgnored { level });
        } else {
            return Err(CipherStringError::UnknownCommand {
                command: command.to_owned(),
            });
        }
        // OpenSSL ignores anything glued to a command, up to the next separator.
        Ok(skip_to_separator(bytes, end))
    }

    /// `ssl_cipher_apply_rule` for one element.
    fn apply(&mut self, rule: Rule, selector: &Selector) {
        match rule {
            Rule::Add => self.move_to_end(
                |slot| !slot.active && selector.matches(slot.index),
                |slot| slot.active = true,
            ),
            Rule::MoveToEnd => {
                self.move_to_end(|slot| slot.active && selector.matches(slot.index), |_| {})
            }
            // Deleted ciphers go to the front, keeping their order, so that a later alias
            // re-adds them before the others ("most recently deleted get best positions").
            Rule::Delete => {
                let (mut deleted, kept): (Vec<Slot>, Vec<Slot>) = self
                    .order
                    .iter()
                    .partition(|slot| slot.active && selector.matches(slot.index));
                deleted.iter_mut().for_each(|slot| slot.active = false);
                deleted.extend(kept);
                self.order = deleted;
            }
            Rule::Kill => self.order.retain(|slot| !selector.matches(slot.index)),
            Rule::Command => {}
        }
    }

    /// Moves the picked slots to the end, keeping their order, and updates them.
    fn move_to_end(&mut self, pick: impl Fn(&Slot) -> bool, update: impl Fn(&mut Slot)) {
        let (mut picked, mut kept): (Vec<Slot>, Vec<Slot>) =
            self.order.iter().partition(|slot| pick(slot));
        picked.iter_mut().for_each(update);
        kept.extend(picked);
        self.order = kept;
    }

    /// `@STRENGTH`, as OpenSSL does it: for each key size in use, largest first, move the active
    /// ciphers of that size to the end. A stable sort by decreasing size.
    fn sort_by_strength(&mut self) {
        let mut sizes: Vec<u16> = self
            .order
            .iter()
            .filter(|slot| slot.active)
            .filter_map(|slot| CIPHERS.get(slot.index))
            .map(OpensslCipher::strength_bits)
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.dedup();
        for size in sizes {
            self.move_to_end(
                |slot| {
                    slot.active
                        && CIPHERS
                            .get(slot.index)
                            .is_some_and(|cipher| cipher.strength_bits() == size)
                },
                |_| {},
            );
        }
    }
}

/// `SECLEVEL=n` with one digit 0 to 5, exactly as OpenSSL accepts it.
fn security_level(command: &str) -> Option<u8> {
    let digit = command.strip_prefix("SECLEVEL=")?;
    match digit.as_bytes() {
        [level @ b'0'..=b'5'] => Some(level - b'0'),
        _ => None,
    }
}

fn hint_for(name: &str) -> Option<NameHint> {
    if name == "DEFAULT" {
        return Some(NameHint::DefaultOnlyFirst);
    }
    if let Some(openssl) = openssl_table::openssl_name_of_iana(name) {
        return Some(NameHint::OpensslName(openssl));
    }
    openssl_table::case_insensitive_match(name).map(NameHint::Case)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rules: &str) -> Vec<&'static str> {
        match evaluate_cipher_string(rules) {
            Ok(list) => list.names(),
            Err(error) => panic!("{rules:?}: {error}"),
        }
    }

    fn notes(rules: &str) -> Vec<CipherNote> {
        match evaluate_cipher_string(rules) {
            Ok(list) => list.notes,
            Err(error) => panic!("{rules:?}: {error}"),
        }
    }

    #[test]
    fn plain_names_keep_the_written_order() {
        assert_eq!(
            names("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"),
            ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"]
        );
    }

    #[test]
    fn joined_names_intersect() {
        assert_eq!(
            names("ECDHE+AESGCM"),
            [
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-RSA-AES128-GCM-SHA256",
            ]
        );
        assert_eq!(names("aECDSA+CHACHA20"), ["ECDHE-ECDSA-CHACHA20-POLY1305"]);
    }

    #[test]
    fn plus_moves_to_the_end() {
        let all = names("ALL");
        let moved = names("ALL:+CHACHA20");
        assert_eq!(all.len(), moved.len());
        let chacha: Vec<_> = all.iter().filter(|n| n.contains("CHACHA20")).collect();
        assert_eq!(
            moved[moved.len() - chacha.len()..]
                .iter()
                .collect::<Vec<_>>(),
            chacha
        );
    }

    #[test]
    fn minus_can_be_re_added_and_goes_first_among_re_added() {
        // -AESGCM puts the GCM ciphers in front of the hidden order, so ECDHE re-adds them
        // before the ECDHE ciphers that were never removed from the hidden order.
        let list = names("ECDHE-RSA-AES256-SHA:ECDHE+AESGCM:-AESGCM:ECDHE");
        assert_eq!(list[0], "ECDHE-RSA-AES256-SHA");
        assert_eq!(list[1], "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert!(list.contains(&"ECDHE-RSA-AES128-GCM-SHA256"));
    }

    #[test]
    fn bang_removes_for_good() {
        let list = names("!AESGCM:ECDHE");
        assert!(
            !list
                .iter()
                .any(|name| name.contains("AES256-GCM") || name.contains("AES128-GCM"))
        );
        assert!(!list.is_empty());
    }

    #[test]
    fn strength_sort_is_stable_and_descending() {
        let list = evaluate_cipher_string("AES128-SHA:AES256-SHA:AES128-SHA256:NULL-SHA:@STRENGTH")
            .map(|list| list.ciphers)
            .unwrap_or_default();
        let got: Vec<_> = list.iter().map(|c| (c.name(), c.strength_bits())).collect();
        assert_eq!(
            got,
            [
                ("AES256-SHA", 256),
                ("AES128-SHA", 128),
                ("AES128-SHA256", 128),
                ("NULL-SHA", 0)
            ]
        );
    }

    #[test]
    fn default_applies_only_at_the_start() {
        let default = names("DEFAULT");
        assert_eq!(default, names(OPENSSL_DEFAULT_CIPHER_RULES));
        assert_eq!(default.first(), Some(&"ECDHE-ECDSA-AES256-GCM-SHA384"));
        assert_eq!(names("DEFAULT:!AES128-SHA").len(), default.len() - 1);
        assert_eq!(names("AES128-SHA:DEFAULT"), ["AES128-SHA"]);
        assert_eq!(
            notes("AES128-SHA:DEFAULT"),
            [CipherNote::UnknownName {
                name: "DEFAULT".into(),
                hint: Some(NameHint::DefaultOnlyFirst)
            }]
        );
    }

    #[test]
    fn unknown_and_tls13_names_are_noted_and_skipped() {
        let list = evaluate_cipher_string("TLS_AES_128_GCM_SHA256:FOO+AESGCM:high:AES128-SHA");
        let Ok(list) = list else { panic!("{list:?}") };
        assert_eq!(list.names(), ["AES128-SHA"]);
        assert_eq!(
            list.notes,
            [
                CipherNote::Tls13Name {
                    name: "TLS_AES_128_GCM_SHA256".into()
                },
                CipherNote::UnknownName {
                    name: "FOO".into(),
                    hint: None
                },
                CipherNote::UnknownName {
                    name: "high".into(),
                    hint: Some(NameHint::Case("HIGH"))
                },
            ]
        );
    }

    #[test]
    fn iana_names_get_a_hint() {
        assert_eq!(
            notes("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:AES128-SHA"),
            [CipherNote::UnknownName {
                name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                hint: Some(NameHint::OpensslName("ECDHE-RSA-AES128-GCM-SHA256"))
            }]
        );
    }

    #[test]
    fn incompatible_or_empty_selections_are_noted_for_plain_elements_only() {
        assert_eq!(
            notes("ECDHE+RSA:RC4:!RC4:AES128-SHA"),
            [
                CipherNote::SelectsNothing {
                    element: "ECDHE+RSA".into()
                },
                CipherNote::SelectsNothing {
                    element: "RC4".into()
                },
            ]
        );
    }

    #[test]
    fn seclevel_is_accepted_and_noted() {
        assert_eq!(
            notes("HIGH:@SECLEVEL=0"),
            [CipherNote::SecLevelIgnored { level: 0 }]
        );
        assert!(evaluate_cipher_string("HIGH:@SECLEVEL=6").is_err());
        assert!(evaluate_cipher_string("HIGH:@SECLEVEL=10").is_err());
        assert!(evaluate_cipher_string("HIGH:@STRENGTHS").is_err());
    }

    #[test]
    fn suite_b_replaces_the_whole_string() {
        let Ok(list) = evaluate_cipher_string("SUITEB128:AES128-SHA") else {
            panic!()
        };
        assert_eq!(
            list.names(),
            [
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES256-GCM-SHA384"
            ]
        );
        assert!(matches!(
            list.notes.as_slice(),
            [CipherNote::SuiteBIgnored {
                keyword: "SUITEB128",
                ..
            }]
        ));
    }

    #[test]
    fn syntax_errors_point_at_the_column() {
        assert_eq!(
            evaluate_cipher_string("HIGH:ECDHE+"),
            Err(CipherStringError::Unexpected {
                column: 12,
                found: None
            })
        );
        assert_eq!(
            evaluate_cipher_string("HIGH_X"),
            Err(CipherStringError::Unexpected {
                column: 5,
                found: Some('_')
            })
        );
        assert_eq!(
            evaluate_cipher_string("é:HIGH/"),
            Err(CipherStringError::Unexpected {
                column: 1,
                found: Some('é')
            })
        );
        // An unknown name swallows everything up to the separator, as in OpenSSL.
        assert!(evaluate_cipher_string("FOO/bar:HIGH").is_ok());
    }

    #[test]
    fn separators_and_glued_operators() {
        assert_eq!(
            names("AES128-SHA, AES256-SHA;NULL-SHA"),
            names("AES128-SHA:AES256-SHA:NULL-SHA")
        );
        // An operator may follow a name without a separator.
        assert_eq!(names("AESGCM!kDHE"), names("AESGCM:!kDHE"));
        assert_eq!(names(""), Vec::<&str>::new());
        assert_eq!(names(" : , ;"), Vec::<&str>::new());
    }

    #[test]
    fn complement_of_default_is_dropped_by_a_later_strength_class() {
        // OpenSSL quirk: the strength class replaces the NOT_DEFAULT bit.
        assert_eq!(names("COMPLEMENTOFDEFAULT+HIGH"), names("HIGH"));
    }
}
