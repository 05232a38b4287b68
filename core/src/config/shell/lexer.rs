//! Splitting the text into statements of words, with quotes removed and `$NAME` references kept
//! apart (they are expanded later, in `assign`).

use super::{Located, QuoteKind, ShellError};

/// A piece of a word: literal text (quoted or not) or a variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    Text { text: String, quoted: bool },
    Var(String),
}

#[derive(Debug, Default)]
pub(super) struct Word {
    pub(super) pieces: Vec<Piece>,
    pub(super) line: usize,
    /// The word contained a newline inside quotes.
    pub(super) multi_line: bool,
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
    pub(super) fn unquoted_prefix(&self) -> &str {
        match self.pieces.first() {
            Some(Piece::Text {
                text,
                quoted: false,
            }) => text,
            _ => "",
        }
    }

    /// Whether the word is exactly the unquoted `text`.
    pub(super) fn is_bare(&self, text: &str) -> bool {
        matches!(self.pieces.as_slice(), [Piece::Text { quoted: false, text: t }] if t == text)
    }

    /// Literal rendering for messages (variables as `$NAME`).
    pub(super) fn display(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text { text, .. } => text.clone(),
                Piece::Var(name) => format!("${name}"),
            })
            .collect()
    }
}

/// A statement: the words of one logical line (continuations joined).
#[derive(Debug)]
pub(super) struct Statement {
    pub(super) words: Vec<Word>,
}

pub(super) struct Reader {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    /// Lines that ended in `\r\n` before the `\r` was dropped (ascending).
    crlf_lines: Vec<usize>,
}

impl Reader {
    pub(super) fn new(text: &str, crlf_lines: Vec<usize>) -> Self {
        Reader {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
            crlf_lines,
        }
    }

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

    /// Called at a `\` that ends the line. Bash joins the next line only when the newline
    /// directly follows; with `\r\n` the backslash escapes the `\r` instead, which stays in the
    /// value, and the line ends there. Since the `\r` was dropped, refuse rather than join.
    fn continuation(&self) -> Located<()> {
        if self.crlf_lines.binary_search(&self.line).is_ok() {
            return Err((self.line, ShellError::BackslashBeforeCrlf));
        }
        Ok(())
    }

    /// The next statement, `None` at the end of input. After an error the rest of the line is
    /// skipped, so one bad line yields one error and the next line is read afresh.
    pub(super) fn next_statement(&mut self) -> Option<Located<Statement>> {
        let mut words = Vec::new();
        loop {
            let step = match self.peek() {
                None => break,
                Some('\n') if !words.is_empty() => {
                    self.bump();
                    break;
                }
                Some(' ' | '\t' | '\n') => {
                    self.bump();
                    Ok(())
                }
                Some('\\') if self.peek_at(1) == Some('\n') => self.continuation().map(|()| {
                    self.bump();
                    self.bump();
                }),
                Some('#') => {
                    self.skip_to_line_end();
                    Ok(())
                }
                Some(_) => self.word().map(|word| words.push(word)),
            };
            if let Err(error) = step {
                self.skip_to_line_end();
                return Some(Err(error));
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
                    if matches!(self.peek_at(1), Some('\n') | None) {
                        self.continuation()?;
                    }
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
                Some('\\') => self.escape_in_double_quotes(word)?,
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

    /// `\` inside double quotes escapes only `$ ` `` ` `` `" \` and a newline.
    fn escape_in_double_quotes(&mut self, word: &mut Word) -> Located<()> {
        if self.peek_at(1) == Some('\n') {
            self.continuation()?;
        }
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
        Ok(())
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
            (text.ends_with('=') && split_assignment(text).is_some()) || text.ends_with(':')
        }
        Some(Piece::Text {
            text,
            quoted: false,
        }) => text.ends_with(':'),
        _ => false,
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `text` is a valid variable name.
pub(super) fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// `NAME=rest` or `NAME+=rest` at the start of unquoted text: (name, append, rest).
pub(super) fn split_assignment(text: &str) -> Option<(&str, bool, &str)> {
    let eq = text.find('=')?;
    let (name, append) = match text[..eq].strip_suffix('+') {
        Some(name) => (name, true),
        None => (&text[..eq], false),
    };
    is_name(name).then(|| (name, append, &text[eq + 1..]))
}
