//! Finding a request's credentials in its headers, as pveproxy does (pve-http-server
//! `AnyEvent.pm` with `Formatter.pm`'s `extract_auth_value`), and passing them on to another
//! node (`proxy_request`).
//!
//! In order:
//! 1. the `PVEAuthCookie` cookie;
//! 2. else `PVEAuthCookie` inside `Authorization`;
//! 3. only when neither gave a ticket, `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`.
//!
//! So a stale cookie hides a valid API token: the request fails with the ticket's error. A name
//! counts where it starts the header value or follows whitespace, and is followed by `=` or a
//! space; the value runs to the next `;` and is percent-decoded. An empty value (or Perl's
//! other false string, `0`) counts as absent.

use http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderName, HeaderValue};

use crate::escape::{uri_escape, uri_unescape_lossy};
use crate::perl;

/// The cookie (and `Authorization` field) carrying a ticket.
pub const COOKIE_NAME: &str = "PVEAuthCookie";

/// The `Authorization` scheme carrying an API token.
pub const API_TOKEN_NAME: &str = "PVEAPIToken";

/// What a request authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing: Proxmox answers 401 "No ticket" on a protected path.
    None,
    /// A ticket, from the cookie or the `Authorization` header (unescaped, not yet verified).
    Ticket(String),
    /// An API token, split at the last `=` (the token id itself contains none). The token id
    /// is the request's user identity once the secret checks out.
    Token { tokenid: String, secret: String },
    /// A `PVEAPIToken` value without `=` or with an empty token id, which can never check out
    /// (Proxmox: "no tokenid specified", 401).
    InvalidToken,
}

impl Credentials {
    /// Reads the credentials from a request's headers.
    ///
    /// Difference: each `Cookie` or `Authorization` header line is searched on its own (in
    /// order, first match wins). Proxmox joins repeated lines with `, ` first, so a cookie at the
    /// end of one line would run on into the next. Also, for cookies a name right after `;`
    /// (`a=1;PVEAuthCookie=…`, no space) counts, as cookie syntax allows; Proxmox needs the
    /// space.
    pub fn from_headers(headers: &HeaderMap) -> Credentials {
        let cookie = first_value(headers, &COOKIE, COOKIE_NAME, Separators::Cookie);
        let ticket = cookie.filter(|value| !perl::is_false(value)).or_else(|| {
            first_value(headers, &AUTHORIZATION, COOKIE_NAME, Separators::Header)
                .filter(|value| !perl::is_false(value))
        });
        if let Some(ticket) = ticket {
            return Credentials::Ticket(ticket);
        }
        match first_value(headers, &AUTHORIZATION, API_TOKEN_NAME, Separators::Header) {
            Some(token) if !perl::is_false(&token) => split_token(&token),
            _ => Credentials::None,
        }
    }

    /// The header that carries these credentials on to another node, or `None` when there is
    /// nothing to forward.
    ///
    /// - A ticket becomes `Cookie: PVEAuthCookie=<percent-escaped ticket>`.
    ///
    ///   Difference: Proxmox sends `PVEAuthCookie=<escaped>; path=/; secure; SameSite=Lax;` in
    ///   the `Cookie` header (it reuses its `Set-Cookie` text). The attributes mean nothing in a
    ///   request and every reader stops at the `;`, so corral sends the cookie alone.
    /// - A token becomes `Authorization: PVEAPIToken <percent-escaped "tokenid=secret">`,
    ///   exactly as Proxmox sends it (a space instead of the first `=`; the escaping keeps a
    ///   `;` or space in the secret intact).
    pub fn forward_header(&self) -> Option<(HeaderName, HeaderValue)> {
        let (name, value) = match self {
            Credentials::Ticket(ticket) => {
                (COOKIE, format!("{COOKIE_NAME}={}", uri_escape(ticket)))
            }
            Credentials::Token { tokenid, secret } => (
                AUTHORIZATION,
                format!(
                    "{API_TOKEN_NAME} {}",
                    uri_escape(&format!("{tokenid}={secret}"))
                ),
            ),
            Credentials::None | Credentials::InvalidToken => return None,
        };
        // Escaped text is plain ASCII, always a valid header value.
        HeaderValue::try_from(value).ok().map(|value| (name, value))
    }
}

/// `verify_token`'s split: `^(.*)=(.*)$`, greedy, so at the last `=`.
fn split_token(value: &str) -> Credentials {
    match value.rsplit_once('=') {
        Some((tokenid, secret)) if !tokenid.is_empty() => Credentials::Token {
            tokenid: tokenid.to_owned(),
            secret: secret.to_owned(),
        },
        _ => Credentials::InvalidToken,
    }
}

/// What may come right before a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separators {
    /// Whitespace (Proxmox's `(?:^|\s)`).
    Header,
    /// Whitespace or `;`.
    Cookie,
}

/// The first value of `name` in any of the `header` lines, unescaped.
fn first_value(
    headers: &HeaderMap,
    header: &HeaderName,
    name: &str,
    separators: Separators,
) -> Option<String> {
    headers
        .get_all(header)
        .iter()
        .find_map(|line| extract_auth_value(line.as_bytes(), name, separators))
}

/// `extract_auth_value`: `(?:^|\s)NAME(?:=| )([^;]*)`, first match, percent-decoded. Header
/// bytes that are not UTF-8 after decoding are replaced (such a value never verifies).
fn extract_auth_value(line: &[u8], name: &str, separators: Separators) -> Option<String> {
    let name = name.as_bytes();
    let starts_name = |at: usize| {
        let boundary = at == 0 || {
            let before = line[at - 1];
            perl::is_space(char::from(before))
                || (separators == Separators::Cookie && before == b';')
        };
        boundary
            && line[at..].starts_with(name)
            && matches!(line.get(at + name.len()), Some(b'=' | b' '))
    };
    let at = (0..line.len()).find(|&at| starts_name(at))?;
    let rest = &line[at + name.len() + 1..];
    let value = rest.split(|&byte| byte == b';').next().unwrap_or_default();
    Some(uri_unescape_lossy(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                (*name).clone(),
                HeaderValue::from_str(value).expect("test header"),
            );
        }
        map
    }

    fn from(lines: &[(&HeaderName, &str)]) -> Credentials {
        Credentials::from_headers(&headers(lines))
    }

    fn ticket(text: &str) -> Credentials {
        Credentials::Ticket(text.to_owned())
    }

    fn token(tokenid: &str, secret: &str) -> Credentials {
        Credentials::Token {
            tokenid: tokenid.to_owned(),
            secret: secret.to_owned(),
        }
    }

    const TICKET: &str = "PVE:root@pam:6B04D380::c2ln+/w==";
    const ESCAPED: &str = "PVE%3Aroot%40pam%3A6B04D380%3A%3Ac2ln%2B%2Fw%3D%3D";

    #[test]
    fn nothing_is_none() {
        assert_eq!(from(&[]), Credentials::None);
        assert_eq!(from(&[(&COOKIE, "other=1; lang=en")]), Credentials::None);
        assert_eq!(from(&[(&AUTHORIZATION, "Bearer abc")]), Credentials::None);
    }

    #[test]
    fn the_cookie_is_found_anywhere_after_whitespace_and_unescaped() {
        assert_eq!(
            from(&[(&COOKIE, &format!("PVEAuthCookie={ESCAPED}"))]),
            ticket(TICKET)
        );
        assert_eq!(
            from(&[(
                &COOKIE,
                &format!("PVELangCookie=en; PVEAuthCookie={ESCAPED}; x=1")
            )]),
            ticket(TICKET)
        );
        // As the browser sends it unescaped, too.
        assert_eq!(
            from(&[(&COOKIE, &format!("PVEAuthCookie={TICKET}"))]),
            ticket(TICKET)
        );
        // A space instead of '=' also counts (Proxmox's `(?:=| )`).
        assert_eq!(from(&[(&COOKIE, "PVEAuthCookie abc")]), ticket("abc"));
        // The first occurrence wins.
        assert_eq!(
            from(&[(&COOKIE, "PVEAuthCookie=a; PVEAuthCookie=b")]),
            ticket("a")
        );
    }

    #[test]
    fn the_name_must_start_the_value_or_follow_a_separator() {
        assert_eq!(from(&[(&COOKIE, "XPVEAuthCookie=abc")]), Credentials::None);
        assert_eq!(from(&[(&COOKIE, "a=PVEAuthCookie=abc")]), Credentials::None);
        assert_eq!(from(&[(&COOKIE, "PVEAuthCookieX=abc")]), Credentials::None);
        assert_eq!(from(&[(&COOKIE, "pveauthcookie=abc")]), Credentials::None);
        // After a bare ';' in a Cookie header (see the difference on `from_headers`) ...
        assert_eq!(from(&[(&COOKIE, "a=1;PVEAuthCookie=abc")]), ticket("abc"));
        // ... but not in Authorization, where Proxmox's rule applies unchanged.
        assert_eq!(
            from(&[(&AUTHORIZATION, "x;PVEAuthCookie=abc")]),
            Credentials::None
        );
        assert_eq!(from(&[(&COOKIE, "a=1\tPVEAuthCookie=abc")]), ticket("abc"));
    }

    #[test]
    fn the_value_runs_to_the_semicolon_and_keeps_spaces() {
        assert_eq!(from(&[(&COOKIE, "PVEAuthCookie=abc ;x")]), ticket("abc "));
        assert_eq!(from(&[(&COOKIE, "PVEAuthCookie=a b")]), ticket("a b"));
        assert_eq!(from(&[(&COOKIE, "PVEAuthCookie=%3B;")]), ticket(";"));
    }

    #[test]
    fn a_ticket_in_authorization_is_the_fallback() {
        assert_eq!(
            from(&[(&AUTHORIZATION, &format!("PVEAuthCookie={ESCAPED}"))]),
            ticket(TICKET)
        );
        // The cookie is preferred.
        assert_eq!(
            from(&[
                (&COOKIE, "PVEAuthCookie=fromcookie"),
                (&AUTHORIZATION, "PVEAuthCookie=fromheader")
            ]),
            ticket("fromcookie")
        );
        // An empty cookie falls through to the header.
        assert_eq!(
            from(&[
                (&COOKIE, "PVEAuthCookie=; a=1"),
                (&AUTHORIZATION, "PVEAuthCookie=fromheader")
            ]),
            ticket("fromheader")
        );
    }

    #[test]
    fn an_api_token_is_split_at_the_last_equals_sign() {
        let id = "root@pam!monitoring";
        let secret = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
        assert_eq!(
            from(&[(&AUTHORIZATION, &format!("PVEAPIToken={id}={secret}"))]),
            token(id, secret)
        );
        // A space may replace the first '=' (what Proxmox itself forwards).
        assert_eq!(
            from(&[(&AUTHORIZATION, &format!("PVEAPIToken {id}={secret}"))]),
            token(id, secret)
        );
        // Percent-escaped as a whole.
        assert_eq!(
            from(&[(&AUTHORIZATION, "PVEAPIToken root%40pam%21t%3Ds%3D%3D")]),
            token("root@pam!t=s=", "")
        );
        assert_eq!(
            from(&[(&AUTHORIZATION, "PVEAPIToken=a@pve!t=x=y")]),
            token("a@pve!t=x", "y")
        );
    }

    #[test]
    fn an_api_token_without_a_token_id_is_invalid() {
        assert_eq!(
            from(&[(&AUTHORIZATION, "PVEAPIToken=justsecret")]),
            Credentials::InvalidToken
        );
        assert_eq!(
            from(&[(&AUTHORIZATION, "PVEAPIToken==secret")]),
            Credentials::InvalidToken
        );
        // Empty counts as absent.
        assert_eq!(from(&[(&AUTHORIZATION, "PVEAPIToken=")]), Credentials::None);
    }

    #[test]
    fn a_stale_cookie_hides_a_valid_token() {
        let credentials = from(&[
            (&COOKIE, "PVEAuthCookie=PVE:old@pam:00000000::expired"),
            (&AUTHORIZATION, "PVEAPIToken=root@pam!t=secret"),
        ]);
        assert_eq!(credentials, ticket("PVE:old@pam:00000000::expired"));
        // A ticket in Authorization hides a token in the same header too.
        assert_eq!(
            from(&[(
                &AUTHORIZATION,
                "PVEAPIToken=root@pam!t=secret; PVEAuthCookie=t"
            )]),
            ticket("t")
        );
        // Perl's false "0" hides nothing.
        assert_eq!(
            from(&[
                (&COOKIE, "PVEAuthCookie=0"),
                (&AUTHORIZATION, "PVEAPIToken=u@pve!t=s")
            ]),
            token("u@pve!t", "s")
        );
    }

    #[test]
    fn each_header_line_is_searched_in_order() {
        assert_eq!(
            from(&[(&COOKIE, "lang=en"), (&COOKIE, "PVEAuthCookie=abc")]),
            ticket("abc")
        );
        assert_eq!(
            from(&[
                (&COOKIE, "PVEAuthCookie=first"),
                (&COOKIE, "PVEAuthCookie=second")
            ]),
            ticket("first")
        );
    }

    #[test]
    fn header_bytes_that_are_not_utf8_do_not_panic() {
        let mut map = HeaderMap::new();
        let value = HeaderValue::from_bytes(b"PVEAuthCookie=\xff%FF").expect("obs-text is allowed");
        map.insert(COOKIE, value);
        assert_eq!(Credentials::from_headers(&map), ticket("\u{FFFD}\u{FFFD}"));
    }

    #[test]
    fn forwarded_headers_read_back_as_the_same_credentials() {
        let ticket_credentials = ticket(TICKET);
        let (name, value) = ticket_credentials.forward_header().expect("ticket header");
        assert_eq!(name, COOKIE);
        assert_eq!(value, format!("PVEAuthCookie={ESCAPED}").as_str());
        assert_eq!(
            from(&[(&name, value.to_str().expect("ascii"))]),
            ticket_credentials
        );

        // The split at the last `=` means a secret never contains one (real ones are UUIDs).
        let token_credentials = token("root@pam!t", "se;cr et");
        let (name, value) = token_credentials.forward_header().expect("token header");
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value, "PVEAPIToken root%40pam%21t%3Dse%3Bcr%20et");
        assert_eq!(
            from(&[(&name, value.to_str().expect("ascii"))]),
            token_credentials
        );

        assert_eq!(Credentials::None.forward_header(), None);
        assert_eq!(Credentials::InvalidToken.forward_header(), None);
    }
}
