//! `.dockerignore` with the semantics of the Docker CLI of today (28.x) and BuildKit's file
//! walker — moby `patternmatcher` with `MatchesUsingParentResults` — which are not gitignore's:
//!
//! - each line is trimmed, `#` lines are comments, `!` re-includes, paths are cleaned and a
//!   leading `/` dropped;
//! - patterns are anchored at the context root (`foo` does not match `a/foo`);
//! - `*` and `?` never cross `/`; `**` matches any number of directories; a pattern that
//!   starts with `**` and has no other wildcard is a plain suffix (`**foo` matches `xfoo`);
//! - the last matching line wins, and a `!` line is only tried on a path excluded at that
//!   point;
//! - parents: each path inherits its parent directory's per-pattern results (what matched
//!   the parent matches the child), so `**/?.txt` then `!t` keeps `t/b/x.txt` excluded;
//! - an excluded directory is not descended unless a `!` pattern starts inside it;
//! - the Dockerfile and `.dockerignore` are always sent (the CLI adds `!` patterns for them).

use regex::Regex;

/// How a pattern matches, as patternmatcher decides it when compiling.
#[derive(Debug, Clone)]
enum Kind {
    /// No wildcard: the path equals the pattern.
    Exact,
    /// `foo/**`: the path starts with the pattern minus its `**`.
    Prefix,
    /// `**foo`, `**/foo` with no other wildcard: the path ends with the rest (or, for
    /// `**/foo`, is `foo`).
    Suffix,
    Regex(Regex),
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || (suffix.starts_with('/') && path == &suffix[1..])
            }
            Kind::Regex(re) => re.is_match(path),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    /// The Dockerfile and `.dockerignore` when the patterns exclude them: the CLI sends
    /// them anyway, BuildKit (reading the patterns itself) leaves them out.
    kept_anyway: Vec<String>,
}

/// Which patterns matched a directory: what its children inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo(Vec<bool>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub line: usize,
    pub message: String,
}

impl Matcher {
    /// Parse a `.dockerignore`, then add the CLI's exceptions for `dockerfile` and
    /// `.dockerignore` when they would be excluded.
    pub fn from_dockerignore(text: &str, dockerfile: &str) -> Result<Matcher, PatternError> {
        let mut lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let raw = if i == 0 {
                raw.trim_start_matches('\u{feff}')
            } else {
                raw
            };
            if raw.starts_with('#') {
                continue;
            }
            let mut p = raw.trim();
            if p.is_empty() {
                continue;
            }
            let invert = p.starts_with('!');
            if invert {
                p = p[1..].trim();
            }
            let mut pat = if p.is_empty() {
                String::new()
            } else {
                relative(p)
            };
            if invert {
                pat = format!("!{pat}");
            }
            lines.push((i + 1, pat));
        }
        let mut m = Matcher::default();
        for (line, p) in &lines {
            m.push_line(*line, p)?;
        }
        // The CLI decides these two with `MatchesOrParentMatches`.
        for name in [".dockerignore", dockerfile] {
            if m.matches_or_parent_matches(name) {
                m.push_line(0, &format!("!{name}"))?;
                m.kept_anyway.push(name.to_string());
            }
        }
        Ok(m)
    }

    /// Patterns as BuildKit sends them for a local source (`include-patterns`,
    /// `followpaths`): cleaned, with no exception added.
    pub fn from_patterns(patterns: &[String]) -> Result<Matcher, PatternError> {
        let mut m = Matcher::default();
        for (i, p) in patterns.iter().enumerate() {
            m.push_line(i + 1, &relative(p.trim()))?;
        }
        Ok(m)
    }

    fn push_line(&mut self, line: usize, p: &str) -> Result<(), PatternError> {
        let p = p.trim();
        if p.is_empty() {
            return Ok(());
        }
        let mut text = clean(p);
        let mut exclusion = false;
        if let Some(rest) = text.strip_prefix('!') {
            if rest.is_empty() {
                return Err(PatternError {
                    line,
                    message: "illegal exclusion pattern: \"!\"".into(),
                });
            }
            exclusion = true;
            text = rest.to_string();
        }
        let kind = compile(&text).map_err(|e| PatternError {
            line,
            message: format!("bad pattern `{p}`: {e}"),
        })?;
        self.patterns.push(Pattern {
            text,
            exclusion,
            kind,
        });
        Ok(())
    }

    /// The files the CLI keeps though the patterns exclude them (an ignored Dockerfile or
    /// `.dockerignore`), which a BuildKit build does not see.
    pub fn kept_anyway(&self) -> &[String] {
        &self.kept_anyway
    }

    /// Is `path` (slash-separated, relative to the context root) excluded, given what
    /// matched its parent directory (`None`: not known, as for a path looked at alone)?
    /// Moby's `MatchesUsingParentResults`; the returned `MatchInfo` is what `path`'s
    /// children inherit when it is a directory.
    pub fn matches_with_parent(&self, path: &str, parent: Option<&MatchInfo>) -> (bool, MatchInfo) {
        let mut matched = false;
        let mut info = MatchInfo(vec![false; self.patterns.len()]);
        for (i, p) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|m| m.0.get(i) == Some(&true));
            if !hit {
                // An inclusion only matters once excluded, an exclusion only before.
                if p.exclusion != matched {
                    continue;
                }
                hit = p.matches(path);
                if !hit && parent.is_none() {
                    hit = parents(path).any(|dir| p.matches(dir));
                }
            }
            info.0[i] = hit;
            if hit {
                matched = !p.exclusion;
            }
        }
        (matched, info)
    }

    /// Is `path` excluded, judged alone (its parents' results recomputed)? The walk of a
    /// context uses `matches_with_parent`, which can differ for `!` re-includes.
    pub fn matches(&self, path: &str) -> bool {
        let mut parent: Option<MatchInfo> = None;
        let mut result = false;
        let mut prefix = String::new();
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            let (m, info) = self.matches_with_parent(&prefix, parent.as_ref());
            result = m;
            parent = Some(info);
        }
        result
    }

    /// Moby's `MatchesOrParentMatches`: a pattern that matches any parent matches.
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        self.matches_with_parent(path, None).0
    }

    /// Does the matcher have any `!` pattern?
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// For an excluded directory: must the walk still descend into it because a `!`
    /// pattern starts inside it? (The CLI's `TarWithOptions` rule.)
    pub fn must_descend(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// `a`, `a/b` for `a/b/c`: the parent directories of a path, shortest first.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// A pattern as the matcher takes it: cleaned, and relative to the context root (a
/// leading `/` dropped).
fn relative(p: &str) -> String {
    let pat = clean(p);
    match pat.strip_prefix('/') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => pat,
    }
}

/// Go's `filepath.Clean` for slash paths.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// moby patternmatcher's `compile`, character for character: the kind of match, and for
/// regular expressions the expression.
fn compile(pattern: &str) -> Result<Kind, regex::Error> {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut detected = Detected::Exact;
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut n = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    // `**` at the end: accept everything below.
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        re.push_str(".*");
                        detected = Detected::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    detected = Detected::Regex;
                }
                if n == 0 {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                detected = Detected::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                detected = Detected::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push('\\');
                    re.push(next);
                    detected = Detected::Regex;
                } else {
                    re.push_str("\\\\");
                }
            }
            '[' | ']' => {
                re.push(ch);
                detected = Detected::Regex;
            }
            // Go's regexp takes these literally inside a class; Rust's would read `&&`,
            // `~~` and `--` as class operators.
            '&' | '~' | '-' => {
                re.push('\\');
                re.push(ch);
            }
            other => re.push(other),
        }
        n += 1;
    }
    Ok(match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix,
        Detected::Suffix => Kind::Suffix,
        Detected::Regex => {
            re.push('$');
            Kind::Regex(Regex::new(&re)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Matcher {
        Matcher::from_dockerignore(text, "Dockerfile").unwrap()
    }

    #[test]
    fn anchored_at_root() {
        let ig = m("foo\n");
        assert!(ig.matches("foo"));
        assert!(ig.matches("foo/bar"), "children of an excluded dir");
        assert!(!ig.matches("a/foo"));
    }

    #[test]
    fn star_does_not_cross_slash() {
        let ig = m("*.txt\n");
        assert!(ig.matches("a.txt"));
        assert!(!ig.matches("dir/a.txt"));
        let ig = m("*/*.txt\n");
        assert!(ig.matches("dir/a.txt"));
        assert!(!ig.matches("a/b/c.txt"));
    }

    #[test]
    fn double_star_spans_directories() {
        let ig = m("**/*.log\n");
        assert!(ig.matches("x.log"));
        assert!(ig.matches("a/b/x.log"));
        let ig = m("a/**\n");
        assert!(ig.matches("a/b/c"));
        assert!(!ig.matches("b/a"));
    }

    #[test]
    fn last_match_wins_and_negation() {
        let ig = m("*.md\n!README.md\n");
        assert!(ig.matches("CHANGES.md"));
        assert!(!ig.matches("README.md"));
        let ig = m("!README.md\n*.md\n");
        assert!(ig.matches("README.md"));
    }

    #[test]
    fn parent_dir_match_excludes_children() {
        let ig = m("build\n!build/keep\n");
        assert!(ig.matches("build/x"));
        assert!(!ig.matches("build/keep"));
        assert!(ig.must_descend("build"));
        assert!(!ig.must_descend("other"));
    }

    #[test]
    fn dockerfile_and_dockerignore_always_kept() {
        let ig = m("*\n");
        assert!(!ig.matches("Dockerfile"));
        assert!(!ig.matches(".dockerignore"));
        assert!(ig.matches("anything"));
    }

    #[test]
    fn cleaning_and_comments() {
        let ig = m("# comment\n  /a/./b/  \n\n./c\n");
        assert!(ig.matches("a/b"));
        assert!(ig.matches("c"));
        assert!(!ig.matches("# comment"));
    }

    #[test]
    fn regex_specials_are_literal() {
        let ig = m("a+b.(c)\n");
        assert!(ig.matches("a+b.(c)"));
        assert!(!ig.matches("aab.(c)"));
    }

    #[test]
    fn parents_pass_their_results_on() {
        // Today's CLI: `t/b/x.txt` inherits the match of `**/?.txt` through… nothing, and
        // `!t` re-includes `t` itself, but its children keep their own exclusion.
        let ig = m("**/?.txt\n!t\n");
        assert!(!ig.matches("t"));
        assert!(ig.matches("t/b/x.txt"));
        let ig = m("build\n!build/keep\n");
        assert!(ig.matches("build/x"));
        assert!(!ig.matches("build/keep"));
        assert!(
            !ig.matches("build/keep/deeper"),
            "the re-include is inherited too"
        );
    }

    #[test]
    fn a_leading_double_star_without_other_wildcards_is_a_plain_suffix() {
        let ig = m("**foo\n");
        assert!(ig.matches("xfoo"));
        assert!(ig.matches("a/bfoo"));
        let ig = m("**/foo\n");
        assert!(ig.matches("foo"));
        assert!(ig.matches("a/foo"));
        assert!(!ig.matches("afoo"));
    }

    #[test]
    fn class_operators_are_literal() {
        let ig = m("[a&&b]\n");
        assert!(ig.matches("&"));
        assert!(ig.matches("a"));
    }

    #[test]
    fn lone_bang_is_an_error() {
        assert!(Matcher::from_dockerignore("!\n", "Dockerfile").is_err());
    }

    #[test]
    fn clean_matches_go() {
        assert_eq!(clean("a//b/./c/.."), "a/b");
        assert_eq!(clean("/a/"), "/a");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("./"), ".");
    }
}
