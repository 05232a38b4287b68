//! Applying a statement: check that it is all assignments, expand its words, assign them.

use std::collections::BTreeMap;

use super::lexer::{Piece, Statement, Word, split_assignment};
use super::{
    Assignment, EXPANDED_LEN_MAX, Located, ShellError, Sources, VALUE_LEN_MAX, is_bash_variable,
};

/// A variable's value and where it came from.
#[derive(Debug, Clone)]
struct Var {
    value: String,
    sources: Sources,
}

type Vars = BTreeMap<String, Var>;

/// The bytes expansions may copy into values in one file, so that `B=$A` repeated on every line
/// of a large file cannot multiply a long `A` into gigabytes.
#[derive(Debug, Default)]
struct Budget {
    /// Bytes copied so far by `$NAME` expansions and by `+=` (which copies the old value).
    spent: usize,
    /// Set once the budget ran out: the error was reported, later expansions are not made.
    exhausted: bool,
}

impl Budget {
    fn spend(&mut self, bytes: usize, line: usize) -> Located<()> {
        if self.exhausted || self.spent + bytes > EXPANDED_LEN_MAX {
            self.exhausted = true;
            return Err((line, ShellError::ExpansionsTooLarge));
        }
        self.spent += bytes;
        Ok(())
    }
}

/// The variables assigned so far, applying one statement at a time.
#[derive(Debug, Default)]
pub(super) struct Assigner {
    vars: Vars,
    budget: Budget,
}

/// One assignment word, expanded: what `NAME=…` or `NAME+=…` adds to the variable.
struct Expanded {
    name: String,
    append: bool,
    text: String,
    line: usize,
    uses: Vec<String>,
    sources: Sources,
}

/// What one statement has assigned so far; committed to the variables only when the whole
/// statement succeeds, so a refused line changes nothing.
#[derive(Default)]
struct Pending {
    vars: Vars,
    assignments: Vec<Assignment>,
}

impl Assigner {
    /// Applies a statement as bash would, or refuses it whole.
    pub(super) fn apply(&mut self, statement: Statement) -> Located<Vec<Assignment>> {
        let (exported, words) = validate(statement)?;
        if self.budget.exhausted && words.iter().any(expands) {
            // Already reported once; the file is unusable, so saying it again adds nothing.
            return Ok(Vec::new());
        }
        let mut pending = Pending::default();
        if exported {
            // `export` is a command: all its arguments are expanded before it assigns any.
            let mut all = Vec::with_capacity(words.len());
            for word in &words {
                all.extend(self.expand(word, &pending.vars)?);
            }
            for expanded in all {
                self.assign(expanded, &mut pending)?;
            }
        } else {
            // Without a command, bash assigns left to right, so `A=1 B=$A` sees the new A.
            for word in &words {
                if let Some(expanded) = self.expand(word, &pending.vars)? {
                    self.assign(expanded, &mut pending)?;
                }
            }
        }
        self.vars.extend(pending.vars);
        Ok(pending.assignments)
    }

    /// Quote removal and `$NAME` expansion of one word; `None` for a bare `export NAME`, which
    /// changes no value.
    fn expand(&mut self, word: &Word, pending: &Vars) -> Located<Option<Expanded>> {
        let Some((name, append, first_rest)) = split_assignment(word.unquoted_prefix()) else {
            return Ok(None);
        };
        let name = name.to_owned();
        if word.multi_line {
            return Err((word.line, ShellError::MultiLineValue { name }));
        }
        let too_long = || (word.line, ShellError::ValueTooLong { name: name.clone() });
        let mut text = first_rest.to_owned();
        let mut uses = Vec::new();
        let mut sources = Sources::line(word.line);
        for piece in &word.pieces[1..] {
            let (added, from) = match piece {
                Piece::Text { text, .. } => (text, None),
                Piece::Var(var) => {
                    let found = lookup(&self.vars, pending, var, word.line)?;
                    uses.push(var.clone());
                    (&found.value, Some(found))
                }
            };
            if text.len() + added.len() > VALUE_LEN_MAX {
                return Err(too_long());
            }
            if let Some(found) = from {
                self.budget.spend(added.len(), word.line)?;
                sources.merge(&found.sources);
            }
            text.push_str(added);
        }
        if text.len() > VALUE_LEN_MAX {
            return Err(too_long());
        }
        Ok(Some(Expanded {
            name,
            append,
            text,
            line: word.line,
            uses,
            sources,
        }))
    }

    /// Sets the variable (appending for `+=`) and records the assignment.
    fn assign(&mut self, expanded: Expanded, pending: &mut Pending) -> Located<()> {
        let Expanded {
            name,
            append,
            text,
            line,
            mut uses,
            mut sources,
        } = expanded;
        let mut value = String::new();
        if append {
            if let Some(previous) = pending.vars.get(&name).or_else(|| self.vars.get(&name)) {
                if previous.value.len() + text.len() > VALUE_LEN_MAX {
                    return Err((line, ShellError::ValueTooLong { name }));
                }
                self.budget.spend(previous.value.len(), line)?;
                value.push_str(&previous.value);
                sources.merge(&previous.sources);
            }
            uses.push(name.clone());
        }
        value.push_str(&text);
        let var = Var {
            value: value.clone(),
            sources: sources.clone(),
        };
        pending.vars.insert(name.clone(), var);
        pending.assignments.push(Assignment {
            name,
            value,
            line,
            uses,
            sources,
        });
        Ok(())
    }
}

/// The variable `$name` refers to: assigned on this line already, or earlier in the file.
fn lookup<'a>(vars: &'a Vars, pending: &'a Vars, name: &str, line: usize) -> Located<&'a Var> {
    if is_bash_variable(name) {
        let name = name.to_owned();
        return Err((line, ShellError::BashVariable { name }));
    }
    pending.get(name).or_else(|| vars.get(name)).ok_or_else(|| {
        let name = name.to_owned();
        (line, ShellError::UnknownVariable { name })
    })
}

/// Checks that the statement is all assignments (optionally after `export`): a line is either
/// read whole or refused whole. Returns whether it was exported, and the words to assign.
fn validate(statement: Statement) -> Located<(bool, Vec<Word>)> {
    let mut words = statement.words;
    let exported = words.first().is_some_and(|word| word.is_bare("export"));
    if exported {
        words.remove(0);
    }
    for word in &words {
        check_word(word, exported)?;
    }
    Ok((exported, words))
}

fn check_word(word: &Word, exported: bool) -> Located<()> {
    if let Some((name, _, _)) = split_assignment(word.unquoted_prefix()) {
        if is_bash_variable(name) {
            let name = name.to_owned();
            return Err((word.line, ShellError::AssignsBashVariable { name }));
        }
        return Ok(());
    }
    // `export NAME` marks a variable exported, which changes no value.
    let bare_name = matches!(word.pieces.as_slice(), [Piece::Text { quoted: false, text }]
        if super::lexer::is_name(text));
    if exported && bare_name {
        return Ok(());
    }
    let word_text = word.display();
    let error = if exported && word_text.starts_with('-') {
        ShellError::NeedsShell {
            what: format!("the export option '{word_text}'"),
        }
    } else {
        ShellError::Command { word: word_text }
    };
    Err((word.line, error))
}

/// Whether assigning the word copies a variable's value (`$NAME`, or `+=`).
fn expands(word: &Word) -> bool {
    let appends = split_assignment(word.unquoted_prefix()).is_some_and(|(_, append, _)| append);
    appends
        || word
            .pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Var(_)))
}
