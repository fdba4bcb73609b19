//! A small reader of POSIX shell for the lint rules: the commands a `RUN` line runs (those
//! in `$(…)`, backticks, subshells, `{ …; }` and `if`/`while` bodies included), each with
//! its arguments and flags, the way Hadolint sees them through ShellCheck's parser: quotes
//! removed, `$VAR` kept as `${VAR}`, redirections and leading assignments dropped, the
//! command name exactly as written (`/usr/bin/apt-get` is not `apt-get`).

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub args: Vec<String>,
    /// (flag, index of the argument it came from): `--no-cache` → `no-cache`,
    /// `--opt=v` → `opt`, `-qy` → `q` and `y`.
    flags: Vec<(String, usize)>,
}

/// What a script runs.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    /// A `|` pipe anywhere (not `||`).
    pub has_pipes: bool,
}

impl Command {
    fn new(name: String, args: Vec<String>) -> Command {
        let mut flags = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if a == "--" || a == "-" {
                continue;
            }
            if let Some(long) = a.strip_prefix("--") {
                flags.push((long.split('=').next().unwrap_or("").to_string(), i));
            } else if let Some(short) = a.strip_prefix('-') {
                for c in short.chars() {
                    flags.push((c.to_string(), i));
                }
            }
        }
        Command { name, args, flags }
    }

    /// Is this `name` with one of `expected` among its arguments?
    pub fn has_args(&self, name: &str, expected: &[&str]) -> bool {
        self.name == name && self.args.iter().any(|a| expected.contains(&a.as_str()))
    }

    pub fn has_arg(&self, arg: &str) -> bool {
        self.args.iter().any(|a| a == arg)
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }

    pub fn has_any_flag(&self, flags: &[&str]) -> bool {
        self.flags.iter().any(|(f, _)| flags.contains(&f.as_str()))
    }

    /// The arguments that are not flags.
    pub fn args_no_flags(&self) -> Vec<&str> {
        self.args
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.flags.iter().any(|(_, fi)| fi == i))
            .map(|(_, a)| a.as_str())
            .collect()
    }

    /// Without the value argument of each of `flags` (`-t stable`: `stable` goes), unless
    /// the flag carries it inline (`--target=stable`).
    pub fn drop_flag_args(&self, flags: &[&str]) -> Command {
        let drop: Vec<usize> = self
            .flags
            .iter()
            .filter(|(f, i)| flags.contains(&f.as_str()) && !self.args[*i].contains('='))
            .map(|(_, i)| i + 1)
            .collect();
        let mut args = Vec::new();
        let mut index = Vec::new();
        for (i, a) in self.args.iter().enumerate() {
            if !drop.contains(&i) {
                index.push(i);
                args.push(a.clone());
            }
        }
        let flags = self
            .flags
            .iter()
            .filter_map(|(f, i)| index.iter().position(|x| x == i).map(|n| (f.clone(), n)))
            .collect();
        Command {
            name: self.name.clone(),
            args,
            flags,
        }
    }
}

impl Script {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|c| c.name.as_str())
    }

    /// Does the script run the program `name`?
    pub fn uses(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// `&&`, `||`, `;`, `&`, `|`, newline, `(`, `)`.
    Op(&'static str),
}

const KEYWORDS_BEFORE: [&str; 8] = ["if", "then", "else", "elif", "do", "while", "until", "!"];
const KEYWORDS_END: [&str; 4] = ["fi", "done", "esac", "}"];

/// Read `text` as a shell script.
pub fn parse(text: &str) -> Script {
    let mut script = Script::default();
    let toks = tokenize(text, &mut script);
    let mut words: Vec<String> = Vec::new();
    let flush = |words: &mut Vec<String>, script: &mut Script| {
        command_of(std::mem::take(words), script);
    };
    for t in toks {
        match t {
            Tok::Word(w) => words.push(w),
            Tok::Op(op) => {
                if op == "|" {
                    script.has_pipes = true;
                }
                flush(&mut words, &mut script);
            }
        }
    }
    flush(&mut words, &mut script);
    script
}

/// The command of one segment's words, if it has one.
fn command_of(mut words: Vec<String>, script: &mut Script) {
    loop {
        match words.first().map(String::as_str) {
            None => return,
            Some(w) if KEYWORDS_BEFORE.contains(&w) || w == "{" => {
                words.remove(0);
            }
            Some(w) if KEYWORDS_END.contains(&w) => return,
            // `for x in …`, `case …`: their words are not a command; nor is a `[ … ]` or
            // `[[ … ]]` test (ShellCheck reads it as a condition).
            Some("for" | "case" | "in" | "function" | "[" | "[[") => return,
            Some(w) if is_assignment(w) => {
                words.remove(0);
            }
            Some(_) => break,
        }
    }
    // A trailing `}` closes a brace group: not an argument.
    if words.last().is_some_and(|w| w == "}") {
        words.pop();
    }
    let name = words.remove(0);
    script.commands.push(Command::new(name, words));
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Split into words and operators; commands found in `$(…)` and backticks go straight into
/// `script` (they run too).
fn tokenize(text: &str, script: &mut Script) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut word = String::new();
    let mut in_word = false;
    // The next word is a redirection target (dropped).
    let mut redirect_target = false;
    let end_word =
        |word: &mut String, in_word: &mut bool, toks: &mut Vec<Tok>, redirect_target: &mut bool| {
            if *in_word {
                if *redirect_target {
                    *redirect_target = false;
                } else {
                    toks.push(Tok::Word(std::mem::take(word)));
                }
                word.clear();
                *in_word = false;
            }
        };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
                i += 1;
            }
            '\n' => {
                end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
                toks.push(Tok::Op(";"));
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars[i + 1]);
                            i += 2;
                        }
                        '$' => i = dollar(&chars, i, &mut word, script),
                        '`' => i = backtick(&chars, i, &mut word, script),
                        ch => {
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            '$' => {
                in_word = true;
                i = dollar(&chars, i, &mut word, script);
            }
            '`' => {
                in_word = true;
                i = backtick(&chars, i, &mut word, script);
            }
            '&' | '|' | ';' | '(' | ')' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                // `&>` and `>&` are redirections.
                if two == "&>" {
                    end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
                    i += 2;
                    if chars.get(i) == Some(&'>') {
                        i += 1;
                    }
                    redirect_target = true;
                    continue;
                }
                end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
                let op = match two.as_str() {
                    "&&" => "&&",
                    "||" => "||",
                    ";;" => ";;",
                    _ => match c {
                        '&' => "&",
                        '|' => "|",
                        ';' => ";",
                        '(' => "(",
                        _ => ")",
                    },
                };
                i += op.len();
                toks.push(Tok::Op(op));
            }
            '>' | '<' => {
                // A file descriptor number written just before belongs to the redirection.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
                }
                i += 1;
                while i < chars.len() && matches!(chars[i], '>' | '<' | '&' | '|') {
                    i += 1;
                }
                redirect_target = true;
            }
            ch => {
                word.push(ch);
                in_word = true;
                i += 1;
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut toks, &mut redirect_target);
    toks
}

/// `$…` at `i`: `$(…)` runs commands, `$((…))` and `${…}`/`$NAME` expand. Appends the
/// word's text (`${…}` placeholders, as Hadolint does) and returns the next index.
fn dollar(chars: &[char], i: usize, word: &mut String, script: &mut Script) -> usize {
    match chars.get(i + 1) {
        Some('(') if chars.get(i + 2) == Some(&'(') => {
            let end = matching(chars, i + 1, '(', ')');
            word.push_str("${VAR}");
            end + 1
        }
        Some('(') => {
            let end = matching(chars, i + 1, '(', ')');
            let inner: String = chars[i + 2..end.min(chars.len())].iter().collect();
            let nested = parse(&inner);
            script.has_pipes |= nested.has_pipes;
            script.commands.extend(nested.commands);
            word.push_str(&format!("${{{}}}", inner.trim()));
            end + 1
        }
        Some('{') => {
            let end = matching(chars, i + 1, '{', '}');
            let inner: String = chars[i + 2..end.min(chars.len())].iter().collect();
            word.push_str(&format!("${{{inner}}}"));
            end + 1
        }
        Some(c) if c.is_ascii_alphanumeric() || *c == '_' => {
            let mut j = i + 1;
            let mut name = String::new();
            if chars[j].is_ascii_digit() {
                name.push(chars[j]);
                j += 1;
            } else {
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    name.push(chars[j]);
                    j += 1;
                }
            }
            word.push_str(&format!("${{{name}}}"));
            j
        }
        Some(c) if "@*#?$!-".contains(*c) => {
            word.push_str(&format!("${{{c}}}"));
            i + 2
        }
        _ => {
            word.push('$');
            i + 1
        }
    }
}

fn backtick(chars: &[char], i: usize, word: &mut String, script: &mut Script) -> usize {
    let mut j = i + 1;
    while j < chars.len() && chars[j] != '`' {
        j += if chars[j] == '\\' { 2 } else { 1 };
    }
    let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
    let nested = parse(&inner);
    script.has_pipes |= nested.has_pipes;
    script.commands.extend(nested.commands);
    word.push_str("${VAR}");
    j + 1
}

/// The index of the bracket closing the one at `open` (quotes respected), or the end.
fn matching(chars: &[char], open: usize, left: char, right: char) -> usize {
    let mut depth = 0;
    let mut j = open;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '\'' => {
                j += 1;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
            }
            c if c == left => depth += 1,
            c if c == right => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
        j += 1;
    }
    chars.len()
}

/// Words split as a shell splits them (spaces outside quotes; quotes and backslashes
/// removed), as `ENV` and Compose's string commands do; no expansion.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        parse(s).commands.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn commands_in_sequences_pipes_substitutions_and_blocks() {
        assert_eq!(
            names("apt-get update && apt-get install -y curl | tee x; cd /tmp || exit 1"),
            ["apt-get", "apt-get", "tee", "cd", "exit"]
        );
        assert_eq!(
            names("echo $(cat /etc/os-release) `uname -a`"),
            ["cat", "uname", "echo"]
        );
        assert_eq!(names("if [ -f x ]; then rm x; fi"), ["rm"]);
        assert_eq!(
            names("(cd /a && make) && { sudo ls; }"),
            ["cd", "make", "sudo"]
        );
        assert_eq!(
            names("DEBIAN_FRONTEND=noninteractive apt-get -q install x"),
            ["apt-get"]
        );
        assert!(parse("a | b").has_pipes);
        assert!(!parse("a || b").has_pipes);
    }

    #[test]
    fn words_flags_and_redirections() {
        let s = parse(
            "apt-get install -qy --no-install-recommends 'curl=7.1' \"$PKG\" 2>&1 >/dev/null",
        );
        let c = &s.commands[0];
        assert_eq!(
            c.args,
            [
                "install",
                "-qy",
                "--no-install-recommends",
                "curl=7.1",
                "${PKG}"
            ]
        );
        assert!(c.has_flag("q") && c.has_flag("y") && c.has_flag("no-install-recommends"));
        assert_eq!(c.args_no_flags(), ["install", "curl=7.1", "${PKG}"]);
        let t = parse("apt-get install -t stable curl --target-release=x y").commands[0]
            .drop_flag_args(&["t", "target-release"]);
        assert_eq!(t.args_no_flags(), ["install", "curl", "y"]);
    }
}
