//! The subset of shell syntax that `/etc/default/*` files are written in.
//!
//! Proxmox `source`s these files with bash, so users write `KEY=value`, `KEY="value"`,
//! `KEY='value'`, `export KEY=value`, comments, blank lines, and sometimes `$VAR` / `${VAR}`
//! naming a variable set earlier in the file. corral reads exactly that much and refuses, with
//! the line number, anything whose meaning needs a running shell (`$(…)`, backticks, `if`,
//! other variables, variables bash sets itself, …): a refusal is better than a silent misread.
//!
//! Rules followed are bash's for assignments: no word splitting or globbing of values; quotes
//! concatenate (`A="x"'y'z` is `xyz`); `\` escapes outside quotes and before `$ ` `` ` `` `" \`
//! inside double quotes; `#` starts a comment only at the start of a word; several assignments
//! may share a line and apply left to right, except after `export`, which expands all its
//! arguments before assigning any.
//!
//! Work and memory are bounded by the input's length: a value holds at most [`VALUE_LEN_MAX`]
//! bytes, and all expansions of a file together copy at most [`EXPANDED_LEN_MAX`] bytes.

mod assign;
mod lexer;

use std::fmt;

use crate::config::display::printable;

/// The longest value a variable may hold. Real values are short; the bound stops `A="$A$A"`
/// repeated a few dozen times from doubling its way to exhausting memory.
pub const VALUE_LEN_MAX: usize = 64 * 1024;

/// The most bytes all `$NAME` expansions and `+=` appends of one file may copy in total. Real
/// files copy a few hundred; without the bound, a 64 KiB value expanded on each of 180,000
/// lines would need 11 GB.
pub const EXPANDED_LEN_MAX: usize = 1024 * 1024;

/// How many lines [`Sources`] names at most (a value built from more says "and others").
pub const SOURCE_LINES_MAX: usize = 16;

/// Variables bash sets or manages itself: their value in the daemon's shell is not what the
/// file says (`_=x; A=$_` gives A an empty value; `$RANDOM` differs every time; assigning
/// `IFS` or `PATH` changes how bash runs the rest). Any name starting `BASH_` is one too.
const BASH_VARIABLES: &[&str] = &[
    "_",
    "BASH",
    "BASHOPTS",
    "BASHPID",
    "DIRSTACK",
    "EPOCHREALTIME",
    "EPOCHSECONDS",
    "EUID",
    "FUNCNAME",
    "GROUPS",
    "HISTCMD",
    "HOME",
    "HOSTNAME",
    "HOSTTYPE",
    "IFS",
    "LINENO",
    "MACHTYPE",
    "OLDPWD",
    "OSTYPE",
    "PATH",
    "PIPESTATUS",
    "PPID",
    "PWD",
    "RANDOM",
    "SECONDS",
    "SHELLOPTS",
    "SHLVL",
    "SRANDOM",
    "UID",
];

fn is_bash_variable(name: &str) -> bool {
    name.starts_with("BASH_") || BASH_VARIABLES.contains(&name)
}

/// One assignment, after quote removal and expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The variable name as written.
    pub name: String,
    /// The value the shell would assign.
    pub value: String,
    /// 1-based line the assignment starts on.
    pub line: usize,
    /// Variables this value expanded, in order, and the variable itself for `+=` (so helper
    /// variables are not "unknown keys", and building a value up is not a reassignment).
    pub uses: Vec<String>,
    /// The lines the value was built from, for messages about it.
    pub sources: Sources,
}

/// The lines a value was built from: its assignment's line and, transitively, the lines of the
/// variables it expanded and of the value `+=` appended to. Ascending; the first
/// [`SOURCE_LINES_MAX`] are kept, so a value built over thousands of lines stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    lines: Vec<usize>,
    /// Lines beyond the first [`SOURCE_LINES_MAX`] were left out.
    more: bool,
}

impl Sources {
    fn line(line: usize) -> Self {
        Sources {
            lines: vec![line],
            more: false,
        }
    }

    /// The lines kept, ascending.
    pub fn lines(&self) -> &[usize] {
        &self.lines
    }

    /// Whether the value came from any line other than `line` (where it was assigned).
    pub fn beyond(&self, line: usize) -> bool {
        self.more || self.lines.iter().any(|&l| l != line)
    }

    /// Adds `other`'s lines. O(SOURCE_LINES_MAX).
    fn merge(&mut self, other: &Sources) {
        let mut merged = Vec::with_capacity(SOURCE_LINES_MAX);
        let (mut mine, mut theirs) = (self.lines.iter().peekable(), other.lines.iter().peekable());
        while merged.len() < SOURCE_LINES_MAX {
            let next = match (mine.peek(), theirs.peek()) {
                (Some(&&a), Some(&&b)) if a == b => {
                    theirs.next();
                    mine.next()
                }
                (Some(&&a), Some(&&b)) if a < b => mine.next(),
                (_, Some(_)) => theirs.next(),
                (Some(_), None) => mine.next(),
                (None, None) => break,
            };
            merged.extend(next.copied());
        }
        self.more |= other.more || mine.next().is_some() || theirs.next().is_some();
        self.lines = merged;
    }
}

impl fmt::Display for Sources {
    /// `line 3`, `lines 1 and 4`, `lines 1, 2 and 4`, `lines 1, 2, …, 16 and others`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.lines.iter().map(ToString::to_string).collect();
        match (shown.as_slice(), self.more) {
            ([one], false) => write!(f, "line {one}"),
            ([init @ .., last], false) => write!(f, "lines {} and {last}", init.join(", ")),
            (all, _) => write!(f, "lines {} and others", all.join(", ")),
        }
    }
}

/// What the reader found: assignments in file order, and what it could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellFile {
    pub assignments: Vec<Assignment>,
    pub errors: Vec<(usize, ShellError)>,
    /// Lines that ended in `\r\n`; the `\r` was dropped (bash would keep it in the value).
    pub crlf_lines: Vec<usize>,
}

/// Why a line cannot be read without a shell, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShellError {
    #[error("the file is not valid UTF-8")]
    InvalidUtf8,
    #[error(
        "the file starts with a UTF-8 byte-order mark; remove it (bash reads it as part of the \
         first line)"
    )]
    ByteOrderMark,
    #[error("{} needs a shell; corral reads only KEY=value assignments", printable(.what))]
    NeedsShell { what: String },
    #[error(
        "'{}' is a command, not an assignment; corral reads only KEY=value assignments",
        printable(.word)
    )]
    Command { word: String },
    #[error("unterminated {quote} quote (opened here)")]
    UnterminatedQuote { quote: QuoteKind },
    #[error("the value of {name} spans several lines, which the daemons cannot read")]
    MultiLineValue { name: String },
    #[error(
        "${name} is not assigned earlier in this file (corral expands only variables set above)"
    )]
    UnknownVariable { name: String },
    #[error("${name} is set by bash itself; corral cannot know its value")]
    BashVariable { name: String },
    #[error(
        "{name} is a variable bash sets or uses itself; corral cannot know what assigning it \
         does: use another name"
    )]
    AssignsBashVariable { name: String },
    #[error(
        "a '\\' before a Windows line ending; bash would not continue the line (it keeps the \
         carriage return): convert the file to Unix line endings"
    )]
    BackslashBeforeCrlf,
    #[error("the value of {name} grows past {VALUE_LEN_MAX} bytes")]
    ValueTooLong { name: String },
    #[error(
        "the variable expansions in this file add up to more than {EXPANDED_LEN_MAX} bytes; \
         corral expands no further (later lines that use a variable are not read)"
    )]
    ExpansionsTooLarge,
}

impl ShellError {
    /// Every [`ShellError::code`], so tests can check that a corpus shows each one.
    pub const CODES: &'static [&'static str] = &[
        "invalid-utf8",
        "byte-order-mark",
        "needs-shell",
        "command",
        "unterminated-quote",
        "multi-line-value",
        "unknown-variable",
        "bash-variable",
        "assigns-bash-variable",
        "backslash-before-crlf",
        "value-too-long",
        "expansions-too-large",
    ];

    /// A short stable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            ShellError::InvalidUtf8 => "invalid-utf8",
            ShellError::ByteOrderMark => "byte-order-mark",
            ShellError::NeedsShell { .. } => "needs-shell",
            ShellError::Command { .. } => "command",
            ShellError::UnterminatedQuote { .. } => "unterminated-quote",
            ShellError::MultiLineValue { .. } => "multi-line-value",
            ShellError::UnknownVariable { .. } => "unknown-variable",
            ShellError::BashVariable { .. } => "bash-variable",
            ShellError::AssignsBashVariable { .. } => "assigns-bash-variable",
            ShellError::BackslashBeforeCrlf => "backslash-before-crlf",
            ShellError::ValueTooLong { .. } => "value-too-long",
            ShellError::ExpansionsTooLarge => "expansions-too-large",
        }
    }
}

/// The kind of quote, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteKind {
    Single,
    Double,
}

impl fmt::Display for QuoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuoteKind::Single => "single",
            QuoteKind::Double => "double",
        })
    }
}

type Located<T> = Result<T, (usize, ShellError)>;

const BYTE_ORDER_MARK: &[u8] = b"\xef\xbb\xbf";

/// Reads a whole file. Never panics, whatever the bytes; work and memory are linear in its
/// length.
pub fn read(bytes: &[u8]) -> ShellFile {
    let mut file = ShellFile::default();
    // Reported, then skipped so the rest of the file is still checked.
    let bytes = match bytes.strip_prefix(BYTE_ORDER_MARK) {
        Some(rest) => {
            file.errors.push((1, ShellError::ByteOrderMark));
            rest
        }
        None => bytes,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            file.errors.push((line, ShellError::InvalidUtf8));
            return file;
        }
    };
    let (text, crlf_lines) = strip_carriage_returns(text);
    file.crlf_lines = crlf_lines.clone();
    let mut reader = lexer::Reader::new(&text, crlf_lines);
    let mut assigner = assign::Assigner::default();
    while let Some(statement) = reader.next_statement() {
        match statement.and_then(|s| assigner.apply(s)) {
            Ok(assignments) => file.assignments.extend(assignments),
            Err((line, error)) => file.errors.push((line, error)),
        }
    }
    file
}

/// Drops the `\r` of `\r\n` line ends and remembers on which lines it did.
fn strip_carriage_returns(text: &str) -> (String, Vec<usize>) {
    let mut lines = Vec::new();
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match line.strip_suffix('\r') {
            Some(stripped) => {
                lines.push(index + 1);
                out.push_str(stripped);
            }
            None => out.push_str(line),
        }
    }
    (out, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, String)> {
        let file = read(text.as_bytes());
        assert_eq!(file.errors, [], "unexpected errors for {text:?}");
        file.assignments
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect()
    }

    fn value(text: &str) -> String {
        let mut all = values(text);
        assert_eq!(all.len(), 1, "{text:?}");
        all.remove(0).1
    }

    fn error(text: &str) -> (usize, ShellError) {
        let file = read(text.as_bytes());
        assert_eq!(file.errors.len(), 1, "{text:?}: {file:?}");
        file.errors[0].clone()
    }

    #[test]
    fn plain_and_quoted_values() {
        assert_eq!(value("A=1"), "1");
        assert_eq!(value("A=\"10.0.0.1, 10.0.0.2\""), "10.0.0.1, 10.0.0.2");
        assert_eq!(value("A='$HOME `x`'"), "$HOME `x`");
        assert_eq!(value("A=\"x\"'y'z"), "xyz");
        assert_eq!(value("A="), "");
        assert_eq!(value("A=\"\""), "");
        assert_eq!(value("export A=deny"), "deny");
        assert_eq!(value("  A=1   # comment"), "1");
        assert_eq!(value("A=a#b"), "a#b");
        assert_eq!(value("A=a\\ b"), "a b");
        assert_eq!(value("A=\"a\\\"b\\\\c\\d\""), "a\"b\\c\\d");
        assert_eq!(value("A=$"), "$");
        assert_eq!(value("A=\"cost: $ 5\""), "cost: $ 5");
        assert_eq!(value("A=\"x$\""), "x$");
    }

    #[test]
    fn comments_blank_lines_and_continuations() {
        let text = "# header\n\n   \nA=1\n# B=2\nC=a\\\nb\n";
        assert_eq!(
            values(text),
            [("A".into(), "1".into()), ("C".into(), "ab".into())]
        );
    }

    #[test]
    fn several_assignments_per_line_apply_left_to_right() {
        assert_eq!(
            values("A=1 B=$A,2"),
            [("A".into(), "1".into()), ("B".into(), "1,2".into())]
        );
    }

    #[test]
    fn export_expands_all_its_arguments_before_assigning() {
        let file = read(b"A=0\nexport A=1 B=$A\n");
        assert_eq!(file.assignments[2].value, "0");
        // As bash 5.2: `+=` appends to the value at assignment time, `$A` is the one before.
        let file = read(b"A=1\nexport A+=2 A+=3 B=$A\n");
        let got: Vec<&str> = file.assignments.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(got, ["1", "12", "123", "1"]);
    }

    #[test]
    fn a_refused_line_assigns_nothing() {
        let file = read(b"A=1\nA=2 B=$NOPE\nC=$A\nexport D=1 E=$NOPE\nF=$D\n");
        let errors: Vec<usize> = file.errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(errors, [2, 4, 5]);
        let c = file.assignments.iter().find(|a| a.name == "C");
        assert_eq!(c.map(|a| a.value.as_str()), Some("1"));
    }

    #[test]
    fn many_exported_variables_are_read_in_linear_work() {
        // 20,000 variables, then 20,000 `export` lines: each line touches only its own words.
        let mut text: String = (0..20_000).map(|i| format!("V{i}=x\n")).collect();
        text.push_str(&"export A=1\n".repeat(20_000));
        let file = read(text.as_bytes());
        assert_eq!(file.errors, []);
        assert_eq!(file.assignments.len(), 40_000);
    }

    #[test]
    fn variables_set_earlier_expand() {
        let text = "NET=10.0.0.0/8\nALLOW_FROM=\"$NET,${NET}\"\nALLOW_FROM+=,::1\n";
        let file = read(text.as_bytes());
        assert_eq!(file.errors, []);
        let last = file.assignments.last().expect("three assignments");
        assert_eq!(last.value, "10.0.0.0/8,10.0.0.0/8,::1");
        assert_eq!(file.assignments[1].uses, ["NET", "NET"]);
    }

    #[test]
    fn what_needs_a_shell_is_refused_with_its_line() {
        let cases = [
            ("A=$(hostname)", "command substitution '$(…)'"),
            ("A=`hostname`", "command substitution with backticks"),
            ("A=$((1+2))", "arithmetic expansion '$((…))'"),
            ("A=${B:-x}", "the parameter expansion '${…}'"),
            ("A=$1", "the special parameter '$1'"),
            ("A=1; B=2", "the shell operator ';'"),
            ("A=~/x", "tilde expansion (quote the '~')"),
            ("A=\"`x`\"", "command substitution with backticks"),
        ];
        for (text, what) in cases {
            let (line, e) = error(&format!("# x\n{text}\n"));
            assert_eq!(line, 2, "{text}");
            assert_eq!(e, ShellError::NeedsShell { what: what.into() }, "{text}");
        }
    }

    #[test]
    fn commands_are_refused() {
        assert_eq!(
            error("if true\n").1,
            ShellError::Command { word: "if".into() }
        );
        assert_eq!(
            error("A=1 true\n").1,
            ShellError::Command {
                word: "true".into()
            }
        );
        assert_eq!(
            error("source /x\n").1,
            ShellError::Command {
                word: "source".into()
            }
        );
        assert_eq!(
            error("\"A\"=1\n").1,
            ShellError::Command { word: "A=1".into() }
        );
    }

    #[test]
    fn other_variables_are_refused() {
        let (line, e) = error("A=1\nB=$NOPE\n");
        assert_eq!(
            (line, e),
            (
                2,
                ShellError::UnknownVariable {
                    name: "NOPE".into()
                }
            )
        );
    }

    #[test]
    fn variables_bash_sets_itself_are_refused() {
        for name in [
            "_",
            "RANDOM",
            "LINENO",
            "HOME",
            "PATH",
            "IFS",
            "BASH",
            "BASH_VERSION",
        ] {
            let (line, e) = error(&format!("# x\n{name}=1\n"));
            let name = name.to_owned();
            assert_eq!((line, e), (2, ShellError::AssignsBashVariable { name }));
        }
        // `_=x; A=$_` gives A an empty value in bash, not x.
        let file = read(b"_=x\nA=$_\n");
        let name = "_".to_owned();
        assert_eq!(
            file.errors,
            [
                (1, ShellError::AssignsBashVariable { name: name.clone() }),
                (2, ShellError::BashVariable { name })
            ]
        );
        let (_, e) = error("A=\"${RANDOM}x\"");
        assert_eq!(
            e.to_string(),
            "$RANDOM is set by bash itself; corral cannot know its value"
        );
        // Names that only look alike are ordinary, and `export PATH` changes no value.
        assert_eq!(values("_A=1 BASHX=2 export=3").len(), 3);
        assert_eq!(values("export PATH"), []);
    }

    #[test]
    fn an_error_does_not_hide_the_next_line() {
        let file = read(b"A=$(x) B=1\nC=2\n");
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.assignments.len(), 1);
        assert_eq!(file.assignments[0].name, "C");
    }

    #[test]
    fn unterminated_and_multi_line_quotes() {
        assert_eq!(
            error("\nA=\"abc\n"),
            (
                2,
                ShellError::UnterminatedQuote {
                    quote: QuoteKind::Double
                }
            )
        );
        let file = read(b"A='x\ny'\nB=1\n");
        assert_eq!(
            file.errors,
            [(1, ShellError::MultiLineValue { name: "A".into() })]
        );
        assert_eq!(file.assignments[0].name, "B");
        assert_eq!(file.assignments[0].line, 3);
    }

    #[test]
    fn doubling_a_value_is_bounded() {
        let text = "A=xxxxxxxxxxxxxxxx\n".to_owned() + &"A=\"$A$A\"\n".repeat(64);
        let file = read(text.as_bytes());
        assert_eq!(
            file.errors[0],
            (14, ShellError::ValueTooLong { name: "A".into() })
        );
        assert!(
            file.assignments
                .iter()
                .all(|a| a.value.len() <= VALUE_LEN_MAX)
        );
    }

    #[test]
    fn expansions_are_bounded_for_the_whole_file() {
        // 65,000 bytes expanded on 180,000 lines would be 11.7 GB.
        let mut text = format!("A=\"{}\"\n", "x".repeat(65_000));
        text.push_str(&"B=$A\n".repeat(180_000));
        let file = read(text.as_bytes());
        // 16 expansions fit in 1 MiB; the 17th (line 18) does not, and is reported once.
        assert_eq!(file.errors, [(18, ShellError::ExpansionsTooLarge)]);
        assert_eq!(file.assignments.len(), 17);
        let stored: usize = file.assignments.iter().map(|a| a.value.len()).sum();
        assert!(stored <= 65_000 + EXPANDED_LEN_MAX, "{stored} bytes stored");
        // Lines that expand nothing are still read after the budget is spent.
        let text = text + "C=1\nD=$C\n";
        let file = read(text.as_bytes());
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.assignments.last().map(|a| a.name.as_str()), Some("C"));
    }

    #[test]
    fn appending_counts_against_the_expansion_budget() {
        // `A+=x` copies A each time: 200,000 appends to a growing value would be quadratic.
        let text = "A+=xxxxxxxxxxxxxxxx\n".repeat(200_000);
        let file = read(text.as_bytes());
        assert_eq!(file.errors.len(), 1);
        let (line, error) = &file.errors[0];
        assert_eq!(*error, ShellError::ExpansionsTooLarge);
        let stored: usize = file.assignments.iter().map(|a| a.value.len()).sum();
        assert!(
            stored <= text.len() + EXPANDED_LEN_MAX,
            "{stored} bytes stored"
        );
        assert_eq!(file.assignments.len(), line - 1);
    }

    #[test]
    fn values_remember_the_lines_they_were_built_from() {
        let file = read(b"NET=10.0.0.1\nX=2\nA=\"$NET,x\"\n\nA+=,y\nB=1\n");
        let a = &file.assignments[3];
        assert_eq!((a.name.as_str(), a.line), ("A", 5));
        assert_eq!(a.sources.lines(), [1, 3, 5]);
        assert_eq!(a.sources.to_string(), "lines 1, 3 and 5");
        assert!(a.sources.beyond(5));
        let b = &file.assignments[4];
        assert!(!b.sources.beyond(6));
        assert_eq!(b.sources.to_string(), "line 6");
        let text = "A=x\n".to_owned() + &"A+=x\n".repeat(100);
        let file = read(text.as_bytes());
        let last = &file.assignments[100].sources;
        assert_eq!(last.lines().len(), SOURCE_LINES_MAX);
        assert!(last.to_string().ends_with("15, 16 and others"), "{last}");
    }

    #[test]
    fn a_backslash_before_a_windows_line_ending_is_refused() {
        // bash reads A=$'a\r' and then B=1; joining the lines would read A=aB=1.
        for text in ["A=a\\\r\nB=1\n", "A=\"a\\\r\nb\"\n", "A=1 \\\r\nB=2\n"] {
            let file = read(text.as_bytes());
            assert_eq!(
                file.errors.first(),
                Some(&(1, ShellError::BackslashBeforeCrlf)),
                "{text:?}"
            );
        }
        // An escaped backslash does not continue the line.
        assert_eq!(value("A=a\\\\\r\n"), "a\\");
        // Without the carriage return, the continuation is fine.
        assert_eq!(values("A=a\\\nb\r\n")[0].1, "ab");
    }

    #[test]
    fn a_byte_order_mark_is_refused_and_the_rest_still_read() {
        let file = read(b"\xef\xbb\xbfA=1\nB=2\n");
        assert_eq!(file.errors, [(1, ShellError::ByteOrderMark)]);
        assert_eq!(file.assignments.len(), 2);
    }

    #[test]
    fn messages_escape_control_characters() {
        let (_, e) = error("A=1 \x1b[2Kx\n");
        assert_eq!(
            e.to_string(),
            "'\\x1b[2Kx' is a command, not an assignment; corral reads only KEY=value assignments"
        );
    }

    #[test]
    fn every_code_is_listed_once() {
        let unique: std::collections::BTreeSet<_> = ShellError::CODES.iter().collect();
        assert_eq!(unique.len(), ShellError::CODES.len());
        assert!(ShellError::CODES.contains(&ShellError::ExpansionsTooLarge.code()));
    }

    #[test]
    fn crlf_is_dropped_and_reported() {
        let file = read(b"A=1\r\nB=2\n");
        assert_eq!(file.assignments[0].value, "1");
        assert_eq!(file.crlf_lines, [1]);
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        assert_eq!(
            read(b"A=1\nB=\xff\n").errors,
            [(2, ShellError::InvalidUtf8)]
        );
    }

    #[test]
    fn line_numbers_follow_continuations() {
        let file = read(b"A=1\\\n2\nB=3\n");
        assert_eq!(file.assignments[1].line, 3);
    }
}
