//! The subset of shell syntax that `/etc/default/*` files are written in.
//!
//! Proxmox `source`s these files with bash, so users write `KEY=value`, `KEY="value"`,
//! `KEY='value'`, `export KEY=value`, comments, blank lines, and sometimes `$VAR` / `${VAR}`
//! naming a variable set earlier in the file. corral reads exactly that much and refuses, with
//! the line number, anything whose meaning needs a running shell (`$(…)`, backticks, `if`,
//! other variables, …): a refusal is better than a silent misread.
//!
//! Rules followed are bash's for assignments: no word splitting or globbing of values; quotes
//! concatenate (`A="x"'y'z` is `xyz`); `\` escapes outside quotes and before `$ ` `` ` `` `" \`
//! inside double quotes; `#` starts a comment only at the start of a word; several assignments
//! may share a line and apply left to right.

use std::collections::BTreeMap;
use std::fmt;

/// The longest value a variable may hold. Real values are short; the bound stops `A="$A$A"`
/// repeated a few dozen times from doubling its way to exhausting memory.
pub const VALUE_LEN_MAX: usize = 64 * 1024;

/// One assignment, after quote removal and expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The variable name as written.
    pub name: String,
    /// The value the shell would assign.
    pub value: String,
    /// 1-based line the assignment starts on.
    pub line: usize,
    /// Variables this value expanded, in order (so helper variables are not "unknown keys").
    pub uses: Vec<String>,
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
    #[error("{what} needs a shell; corral reads only KEY=value assignments")]
    NeedsShell { what: String },
    #[error("'{word}' is a command, not an assignment; corral reads only KEY=value assignments")]
    Command { word: String },
    #[error("unterminated {quote} quote (opened here)")]
    UnterminatedQuote { quote: QuoteKind },
    #[error("the value of {name} spans several lines, which the daemons cannot read")]
    MultiLineValue { name: String },
    #[error(
        "${name} is not assigned earlier in this file (corral expands only variables set above)"
    )]
    UnknownVariable { name: String },
    #[error("the value of {name} grows past {VALUE_LEN_MAX} bytes")]
    ValueTooLong { name: String },
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

/// Reads a whole file. Never panics, whatever the bytes.
pub fn read(bytes: &[u8]) -> ShellFile {
    let mut file = ShellFile::default();
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
    file.crlf_lines = crlf_lines;
    let mut reader = Reader {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
    };
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    while let Some(statement) = reader.next_statement() {
        match statement.and_then(|s| apply(s, &mut vars)) {
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

/// A piece of a word: literal text (quoted or not) or a variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text { text: String, quoted: bool },
    Var(String),
}

#[derive(Debug, Default)]
struct Word {
    pieces: Vec<Piece>,
    line: usize,
    /// The word contained a newline inside quotes.
    multi_line: bool,
}

impl Word {
    fn push_char(&mut self, c: char, quoted: bool) {
        if let Some(Piece::Text { text, quoted: q }) = self.pieces.last_mut()
            && *q == quoted
        {
            text.push(c);
            return;
        }
        self.pieces.push(Piece::Text {
            text: c.to_string(),
            quoted,
        });
    }

    /// The leading unquoted text, if the word starts with one.
    fn unquoted_prefix(&self) -> &str {
        match self.pieces.first() {
            Some(Piece::Text {
                text,
                quoted: false,
            }) => text,
            _ => "",
        }
    }

    /// Literal rendering for messages (variables as `$NAME`).
    fn display(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text { text, .. } => text.clone(),
                Piece::Var(name) => format!("${name}"),
            })
            .collect()
    }
}

type Located<T> = Result<T, (usize, ShellError)>;

/// A statement: the words of one logical line (continuations joined).
#[derive(Debug)]
struct Statement {
    words: Vec<Word>,
}

struct Reader {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_to_line_end(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.bump();
        }
    }

    /// The next statement, `None` at the end of input. After an error the rest of the line is
    /// skipped, so one bad line yields one error and the next line is read afresh.
    fn next_statement(&mut self) -> Option<Located<Statement>> {
        let mut words = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('\n') => {
                    self.bump();
                    if !words.is_empty() {
                        break;
                    }
                }
                Some('\\') if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                Some('#') => self.skip_to_line_end(),
                Some(_) => match self.word() {
                    Ok(word) => words.push(word),
                    Err(error) => {
                        self.skip_to_line_end();
                        return Some(Err(error));
                    }
                },
            }
        }
        if words.is_empty() {
            None
        } else {
            Some(Ok(Statement { words }))
        }
    }

    /// Reads one word up to an unquoted blank, newline or end of input.
    fn word(&mut self) -> Located<Word> {
        let mut word = Word {
            line: self.line,
            ..Word::default()
        };
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' => break,
                '\'' => self.single_quoted(&mut word)?,
                '"' => self.double_quoted(&mut word)?,
                '\\' => {
                    self.bump();
                    match self.bump() {
                        // A backslash-newline joins lines and disappears.
                        Some('\n') | None => {}
                        Some(escaped) => word.push_char(escaped, true),
                    }
                }
                '$' => self.dollar(&mut word, false)?,
                '`' => return Err(self.needs_shell("command substitution with backticks")),
                ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                    return Err(self.needs_shell(&format!("the shell operator '{c}'")));
                }
                '~' if tilde_expands(&word) => {
                    return Err(self.needs_shell("tilde expansion (quote the '~')"));
                }
                _ => {
                    self.bump();
                    word.push_char(c, false);
                }
            }
        }
        Ok(word)
    }

    fn needs_shell(&self, what: &str) -> (usize, ShellError) {
        (
            self.line,
            ShellError::NeedsShell {
                what: what.to_owned(),
            },
        )
    }

    /// Consumes an opening quote and returns its line, for "unterminated" errors.
    fn open_quote(&mut self, word: &mut Word) -> usize {
        let opened = self.line;
        self.bump();
        // An empty "" or '' still starts a quoted piece; its text is what the quotes hold.
        word.pieces.push(Piece::Text {
            text: String::new(),
            quoted: true,
        });
        opened
    }

    fn single_quoted(&mut self, word: &mut Word) -> Located<()> {
        let opened = self.open_quote(word);
        loop {
            match self.bump() {
                None => {
                    let quote = QuoteKind::Single;
                    return Err((opened, ShellError::UnterminatedQuote { quote }));
                }
                Some('\'') => return Ok(()),
                Some(c) => {
                    word.multi_line |= c == '\n';
                    word.push_char(c, true);
                }
            }
        }
    }

    fn double_quoted(&mut self, word: &mut Word) -> Located<()> {
        let opened = self.open_quote(word);
        loop {
            match self.peek() {
                None => {
                    let quote = QuoteKind::Double;
                    return Err((opened, ShellError::UnterminatedQuote { quote }));
                }
                Some('"') => {
                    self.bump();
                    return Ok(());
                }
                Some('\\') => {
                    self.bump();
                    match self.peek() {
                        Some('\n') => {
                            self.bump();
                        }
                        Some(c @ ('$' | '`' | '"' | '\\')) => {
                            self.bump();
                            word.push_char(c, true);
                        }
                        // Elsewhere bash keeps the backslash.
                        _ => word.push_char('\\', true),
                    }
                }
                Some('$') => self.dollar(word, true)?,
                Some('`') => return Err(self.needs_shell("command substitution with backticks")),
                Some(c) => {
                    self.bump();
                    word.multi_line |= c == '\n';
                    word.push_char(c, true);
                }
            }
        }
    }

    /// `$NAME`, `${NAME}`, or a `$` that bash keeps literally. Everything else needs a shell.
    fn dollar(&mut self, word: &mut Word, in_double_quotes: bool) -> Located<()> {
        self.bump();
        match self.peek() {
            Some('{') => {
                self.bump();
                let name = self.name();
                if name.is_empty() || self.peek() != Some('}') {
                    return Err(self.needs_shell("the parameter expansion '${…}'"));
                }
                self.bump();
                word.pieces.push(Piece::Var(name));
            }
            Some('(') => {
                let what = if self.peek_at(1) == Some('(') {
                    "arithmetic expansion '$((…))'"
                } else {
                    "command substitution '$(…)'"
                };
                return Err(self.needs_shell(what));
            }
            // `$'…'` and `$"…"` are bash quoting forms, but only outside double quotes.
            Some('\'' | '"') if !in_double_quotes => {
                return Err(self.needs_shell("'$' before a quote"));
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                return Err(self.needs_shell(&format!("the special parameter '${c}'")));
            }
            Some(c) if is_name_start(c) => {
                let name = self.name();
                word.pieces.push(Piece::Var(name));
            }
            // Followed by anything else (or nothing), bash keeps the '$' as it is.
            _ => word.push_char('$', in_double_quotes),
        }
        Ok(())
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        if let Some(c) = self.peek().filter(|&c| is_name_start(c)) {
            self.bump();
            name.push(c);
            while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
                self.bump();
                name.push(c);
            }
        }
        name
    }
}

/// Bash expands an unquoted `~` at the start of an assignment value or after an unquoted `:`.
fn tilde_expands(word: &Word) -> bool {
    match word.pieces.last() {
        Some(Piece::Text {
            text,
            quoted: false,
        }) if word.pieces.len() == 1 => {
            (text.ends_with('=') && is_assignment_prefix(text)) || text.ends_with(':')
        }
        Some(Piece::Text {
            text,
            quoted: false,
        }) => text.ends_with(':'),
        _ => false,
    }
}

fn is_assignment_prefix(text: &str) -> bool {
    split_assignment(text).is_some()
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `NAME=rest` or `NAME+=rest` at the start of unquoted text: (name, append, rest).
fn split_assignment(text: &str) -> Option<(&str, bool, &str)> {
    let eq = text.find('=')?;
    let (name, append) = match text[..eq].strip_suffix('+') {
        Some(name) => (name, true),
        None => (&text[..eq], false),
    };
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(is_name_start) && chars.all(is_name_char);
    valid.then(|| (name, append, &text[eq + 1..]))
}

/// Applies a statement's assignments left to right, as bash does.
fn apply(statement: Statement, vars: &mut BTreeMap<String, String>) -> Located<Vec<Assignment>> {
    let mut words = statement.words.into_iter().peekable();
    let exported = words
        .peek()
        .is_some_and(|w| w.pieces == [text_piece("export", false)]);
    if exported {
        words.next();
    }
    // Check every word first: a line is either all assignments or refused whole.
    let words: Vec<Word> = words.collect();
    for word in &words {
        let is_assignment = split_assignment(word.unquoted_prefix()).is_some();
        let is_bare_export_name = exported
            && matches!(word.pieces.as_slice(), [Piece::Text { quoted: false, text }]
                if split_assignment(&format!("{text}=")).is_some());
        if !is_assignment && !is_bare_export_name {
            let word_text = word.display();
            let error = if exported && word_text.starts_with('-') {
                ShellError::NeedsShell {
                    what: format!("the export option '{word_text}'"),
                }
            } else {
                ShellError::Command { word: word_text }
            };
            return Err((word.line, error));
        }
    }
    // Without a command, bash assigns left to right, so `A=1 B=$A` sees the new A. `export` is
    // a command: all its arguments are expanded before it assigns any of them.
    let before = exported.then(|| vars.clone());
    let mut assignments = Vec::new();
    for word in words {
        let Some((name, append, first_rest)) = split_assignment(word.unquoted_prefix()) else {
            continue; // `export NAME`: marks it exported, which changes no value.
        };
        let name = name.to_owned();
        if word.multi_line {
            return Err((word.line, ShellError::MultiLineValue { name }));
        }
        let mut uses = Vec::new();
        let mut value = if append {
            vars.get(&name).cloned().unwrap_or_default()
        } else {
            String::new()
        };
        value.push_str(first_rest);
        let expansions = before.as_ref().unwrap_or(vars);
        for piece in &word.pieces[1..] {
            match piece {
                Piece::Text { text, .. } => value.push_str(text),
                Piece::Var(var) => {
                    let Some(expanded) = expansions.get(var) else {
                        let error = ShellError::UnknownVariable { name: var.clone() };
                        return Err((word.line, error));
                    };
                    if value.len() + expanded.len() > VALUE_LEN_MAX {
                        return Err((word.line, ShellError::ValueTooLong { name }));
                    }
                    value.push_str(expanded);
                    uses.push(var.clone());
                }
            }
        }
        if append {
            uses.push(name.clone());
        }
        if value.len() > VALUE_LEN_MAX {
            return Err((word.line, ShellError::ValueTooLong { name }));
        }
        vars.insert(name.clone(), value.clone());
        assignments.push(Assignment {
            name,
            value,
            line: word.line,
            uses,
        });
    }
    Ok(assignments)
}

fn text_piece(text: &str, quoted: bool) -> Piece {
    Piece::Text {
        text: text.to_owned(),
        quoted,
    }
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
        let (line, e) = error("A=1\nB=$HOME\n");
        assert_eq!(
            (line, e),
            (
                2,
                ShellError::UnknownVariable {
                    name: "HOME".into()
                }
            )
        );
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
