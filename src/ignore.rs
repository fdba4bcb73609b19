//! `.dockerignore` with Docker's exact semantics (moby `patternmatcher` and the CLI's
//! context walk), which are not gitignore's:
//!
//! - each line is trimmed, `#` lines are comments, `!` re-includes, paths are cleaned and a
//!   leading `/` dropped;
//! - patterns are anchored at the context root (`foo` does not match `a/foo`);
//! - `*` and `?` never cross `/`; `**` matches any number of directories;
//! - a path is excluded when it or any parent matches; the last matching line wins;
//! - an excluded directory is not descended unless a `!` pattern starts inside it;
//! - the Dockerfile and `.dockerignore` are always sent (the CLI adds `!` patterns for them).

use regex::Regex;

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    re: Regex,
}

#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

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
            let mut pat = String::new();
            if !p.is_empty() {
                pat = clean(p);
                if pat.len() > 1 && pat.starts_with('/') {
                    pat = pat[1..].to_string();
                }
            }
            if invert {
                pat = format!("!{pat}");
            }
            lines.push((i + 1, pat));
        }
        let mut m = Matcher::new_lines(&lines)?;
        if m.matches(".dockerignore") {
            m.push_line(0, "!.dockerignore")?;
        }
        if m.matches(dockerfile) {
            m.push_line(0, &format!("!{dockerfile}"))?;
        }
        Ok(m)
    }

    fn new_lines(lines: &[(usize, String)]) -> Result<Matcher, PatternError> {
        let mut m = Matcher::default();
        for (line, p) in lines {
            m.push_line(*line, p)?;
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
        let re = Regex::new(&to_regex(&text)).map_err(|e| PatternError {
            line,
            message: format!("bad pattern `{p}`: {e}"),
        })?;
        self.patterns.push(Pattern {
            text,
            exclusion,
            re,
        });
        Ok(())
    }

    /// Is `path` (slash-separated, relative to the context root) excluded?
    /// Moby's `MatchesOrParentMatches`.
    pub fn matches(&self, path: &str) -> bool {
        let mut matched = false;
        let parent = match path.rfind('/') {
            Some(i) => &path[..i],
            None => ".",
        };
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        for p in &self.patterns {
            // An inclusion only matters once excluded, an exclusion only before.
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.re.is_match(path);
            if !hit && parent != "." {
                for i in 0..parent_dirs.len() {
                    if p.re.is_match(&parent_dirs[..=i].join("/")) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
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

/// moby patternmatcher's `compile`, character for character.
fn to_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' => {
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    // `**/` is treated as `**`.
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    if i >= chars.len() {
                        re.push_str(".*");
                    } else {
                        re.push_str("(.*/)?");
                    }
                } else {
                    re.push_str("[^/]*");
                }
            }
            '?' => re.push_str("[^/]"),
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push('\\');
                    re.push(next);
                } else {
                    re.push_str("\\\\");
                }
            }
            other => re.push(other),
        }
    }
    re.push('$');
    re
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
