//! The `/etc/default/*` reader against bash itself, the reference Proxmox uses (it `source`s the
//! file). For generated files made of the constructs corral accepts (quotes, escapes, `export`,
//! comments, continuations, `$VAR` of earlier variables), every value corral reads must be the
//! value bash assigns: no silent misread. And whatever the bytes, the reader never panics.
//!
//! bash runs with an empty environment and no rc files, once per case.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use corral_core::config::{proxy, shell};
use proptest::prelude::*;

/// Variable names the generator assigns; later pieces may refer to earlier ones.
const NAMES: [&str; 4] = ["A", "B", "ALLOW_FROM", "POLICY"];

#[derive(Debug, Clone)]
enum Piece {
    /// Unquoted text; special characters are backslash-escaped when rendered.
    Bare(String),
    Single(String),
    Double(String),
    /// `$NAME` or `${NAME}` (index into NAMES), possibly inside double quotes.
    Var {
        name: usize,
        braces: bool,
        quoted: bool,
    },
}

#[derive(Debug, Clone)]
struct Line {
    indent: bool,
    export: bool,
    assignments: Vec<(usize, bool, Vec<Piece>)>,
    comment: Option<String>,
    continuation_before_value: bool,
}

fn text() -> impl Strategy<Value = String> {
    // Printable ASCII plus a little UTF-8: everything a value may hold except a newline.
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range(' ', '~'),
            1 => Just('é'),
            1 => Just('\t'),
        ],
        0..8,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        text().prop_map(Piece::Bare),
        text().prop_map(|t| Piece::Single(t.replace('\'', ""))),
        text().prop_map(Piece::Double),
        (0..NAMES.len(), any::<bool>(), any::<bool>()).prop_map(|(name, braces, quoted)| {
            Piece::Var {
                name,
                braces,
                quoted,
            }
        }),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(
            (
                0..NAMES.len(),
                any::<bool>(),
                proptest::collection::vec(piece(), 0..4),
            ),
            1..3,
        ),
        proptest::option::of(text()),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(indent, export, assignments, comment, continuation_before_value)| Line {
                indent,
                export,
                assignments,
                comment,
                continuation_before_value,
            },
        )
}

fn render_piece(piece: &Piece, out: &mut String) {
    match piece {
        Piece::Bare(text) => {
            for c in text.chars() {
                // Escape what the shell would treat specially outside quotes; `~` only matters
                // at the start or after ':', but escaping it always is simplest.
                if " \t\"'\\$`;&|<>()#~*?[]{}!".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        Piece::Single(text) => {
            out.push('\'');
            out.push_str(text);
            out.push('\'');
        }
        Piece::Double(text) => {
            out.push('"');
            for c in text.chars() {
                if "\"\\$`".contains(c) {
                    out.push('\\');
                }
                // bash history expansion is off in scripts, so '!' is plain.
                out.push(c);
            }
            out.push('"');
        }
        Piece::Var {
            name,
            braces,
            quoted,
        } => {
            let var = if *braces {
                format!("${{{}}}", NAMES[*name])
            } else {
                format!("${}", NAMES[*name])
            };
            if *quoted {
                out.push('"');
                out.push_str(&var);
                out.push('"');
            } else {
                out.push_str(&var);
                // A bare `$A` followed by a name character would name another variable.
                out.push_str("\"\"");
            }
        }
    }
}

/// Renders the file, dropping `$VAR` pieces that refer to variables not yet assigned (corral
/// refuses those on purpose; that case has its own unit test).
fn render(lines: &[Line]) -> String {
    let mut assigned = [false; NAMES.len()];
    let mut file = String::new();
    for line in lines {
        if line.indent {
            file.push_str("  ");
        }
        if line.export {
            file.push_str("export ");
        }
        for (index, (name, append, pieces)) in line.assignments.iter().enumerate() {
            if index > 0 {
                file.push(' ');
            }
            file.push_str(NAMES[*name]);
            file.push_str(if *append { "+=" } else { "=" });
            if line.continuation_before_value {
                file.push_str("\\\n");
            }
            for piece in pieces {
                if let Piece::Var { name, .. } = piece
                    && !assigned[*name]
                {
                    continue;
                }
                render_piece(piece, &mut file);
            }
            // Without `export`, bash assigns left to right, so later words on the line may use
            // this variable; `export` expands all its arguments first.
            if !line.export {
                assigned[*name] = true;
            }
        }
        for (name, _, _) in &line.assignments {
            assigned[*name] = true;
        }
        if let Some(comment) = &line.comment {
            file.push_str(" # ");
            file.push_str(comment);
        }
        file.push('\n');
    }
    file
}

/// The final value of every NAME after bash sources `file`.
fn bash_values(file: &str) -> BTreeMap<String, String> {
    let dir = std::env::temp_dir().join(format!("corral-shell-vs-bash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    // Tests run in parallel: each call gets its own file.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!("config-{}", CALLS.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, file).expect("temp file is writable");
    let mut script = format!("source '{}' || exit 99\n", path.display());
    for name in NAMES {
        script.push_str(&format!(
            "printf '%s=%s\\0' {name} \"${{{name}-<unset>}}\"\n"
        ));
    }
    let mut child = Command::new("bash")
        .args(["--norc", "--noprofile", "-s"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash is installed");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(script.as_bytes())
        .expect("bash reads stdin");
    let output = child.wait_with_output().expect("bash runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "bash failed on:\n{file}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("values are UTF-8");
    stdout
        .split('\0')
        .filter(|s| !s.is_empty())
        .filter_map(|pair| pair.split_once('='))
        .filter(|(_, value)| *value != "<unset>")
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn corral_values(file: &str) -> BTreeMap<String, String> {
    let read = shell::read(file.as_bytes());
    assert_eq!(read.errors, [], "corral refused a file bash reads:\n{file}");
    read.assignments
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect()
}

/// Two things corral refuses on purpose, against bash: bash does not read them the way the file
/// looks, so guessing either way would be a silent misread.
#[test]
fn what_corral_refuses_bash_reads_differently() {
    let refused = |file: &str, error: shell::ShellError| {
        let read = shell::read(file.as_bytes());
        assert!(
            read.errors.iter().any(|(_, e)| *e == error),
            "{file:?}: {:?}",
            read.errors
        );
    };
    // A `\` before `\r\n` escapes the `\r` and does not continue the line.
    let crlf = "A=a\\\r\nB=1\n";
    let bash = bash_values(crlf);
    assert_eq!(bash.get("A").map(String::as_str), Some("a\r"));
    assert_eq!(bash.get("B").map(String::as_str), Some("1"));
    refused(crlf, shell::ShellError::BackslashBeforeCrlf);
    // `$_` is bash's last argument, not what the file assigned to `_`.
    let underscore = "_=x\nA=\"$_\"\n";
    assert_ne!(
        bash_values(underscore).get("A").map(String::as_str),
        Some("x")
    );
    let name = "_".to_owned();
    refused(underscore, shell::ShellError::BashVariable { name });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn corral_reads_what_bash_assigns(lines in proptest::collection::vec(line(), 1..6)) {
        let file = render(&lines);
        prop_assert_eq!(corral_values(&file), bash_values(&file), "file:\n{}", file);
    }

    #[test]
    fn the_config_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = proxy::parse(&bytes);
    }

    #[test]
    fn the_config_reader_never_panics_on_near_valid_text(
        lines in proptest::collection::vec(
            proptest::string::string_regex("[A-Z_ ]{0,12}[=+]{0,2}[\"'$`(){}\\\\#:;, a-z0-9./%-]{0,30}")
                .expect("valid regex"),
            0..8,
        )
    ) {
        let _ = proxy::parse(lines.join("\n").as_bytes());
    }
}
