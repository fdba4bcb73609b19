//! Strict TOML loading: every error names the file, line, column and key, and an unknown
//! key gets a "did you mean" suggestion.

use serde::de::DeserializeOwned;

use crate::error::Diagnostic;

/// Parse `text` (the contents of `path`, as shown to the user) into `T`.
///
/// `T` is expected to use `#[serde(deny_unknown_fields)]` throughout, so that a misspelt key
/// is an error and not silently ignored.
pub fn parse<T: DeserializeOwned>(text: &str, path: &str) -> Result<T, Diagnostic> {
    parse_all(text, path).map_err(|mut d| d.remove(0))
}

/// `parse`, reporting every value that does not parse (a bad duration, size, port or
/// address: `units::Text` values), not only the first, each at its key and line.
pub fn parse_all<T: DeserializeOwned>(text: &str, path: &str) -> Result<T, Vec<Diagnostic>> {
    let (parsed, value_errors) =
        crate::units::collecting_value_errors(|| toml::from_str::<T>(text));
    let mut diags = value_diagnostics(text, path, value_errors);
    match parsed {
        Ok(v) if diags.is_empty() => Ok(v),
        parsed => {
            if let Err(err) = parsed {
                diags.push(diagnose(text, path, &err));
                diags.extend(later_errors::<T>(text, path, &err));
            }
            diags.sort_by_key(|d| (d.line, d.col));
            diags.dedup_by_key(|d| (d.line, d.col, d.message.clone()));
            Err(diags)
        }
    }
}

/// The bad values (`units::Text`) a parse met, each at its key and line.
fn value_diagnostics(
    text: &str,
    path: &str,
    errors: Vec<(std::ops::Range<usize>, String)>,
) -> Vec<Diagnostic> {
    errors
        .into_iter()
        .map(|(span, message)| {
            let key = key_at(text, span.start).qualified_key();
            let message = match key {
                Some(k) => format!("key `{k}`: {message}"),
                None => message,
            };
            Diagnostic::new(path, message).at_offset(text, span.start)
        })
        .collect()
}

/// serde stops at the first key it refuses (unknown, or of the wrong type). To report every
/// one, the refused key's line (or, for a refused table, its whole section) is blanked —
/// offsets stay as they were — and the text parsed again, until it parses or a blanking
/// would leave text that is no longer TOML (a value spanning lines: what is reported so
/// far stands). Bounded by the number of lines.
fn later_errors<T: DeserializeOwned>(
    text: &str,
    path: &str,
    first: &toml::de::Error,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut blanked = text.to_string();
    let mut at = first.span().map(|s| s.start);
    // The keys blanked so far: a key missing because it was blanked is not news.
    let mut gone: Vec<String> = Vec::new();
    for _ in 0..text.lines().count() {
        let Some(offset) = at else { break };
        let before = blanked.clone();
        if let Some(k) = key_at(text, offset).key {
            gone.push(k.rsplit('.').next().unwrap_or(&k).to_string());
        }
        blank_key_at(&mut blanked, offset);
        if blanked == before || blanked.parse::<toml::Table>().is_err() {
            break;
        }
        let (parsed, values) =
            crate::units::collecting_value_errors(|| toml::from_str::<T>(&blanked));
        out.extend(value_diagnostics(text, path, values));
        match parsed {
            Ok(_) => break,
            Err(e) => {
                let missing = e
                    .message()
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next());
                if missing.is_some_and(|m| gone.iter().any(|g| g == m)) {
                    break;
                }
                out.push(diagnose(text, path, &e));
                at = e.span().map(|s| s.start);
            }
        }
    }
    out
}

/// Blank (with spaces, newlines kept) the line holding `offset`, or, when it is a table
/// header, the table up to the next header.
fn blank_key_at(text: &mut String, offset: usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = |from: usize| {
        text[from..]
            .find('\n')
            .map(|i| from + i)
            .unwrap_or(text.len())
    };
    let mut end = line_end(start);
    if text[start..end].trim_start().starts_with('[') {
        while end < text.len() {
            let next = end + 1;
            let next_end = line_end(next);
            if text[next..next_end].trim_start().starts_with('[') {
                break;
            }
            end = next_end;
        }
    }
    let blank: String = text[start..end]
        .chars()
        .map(|c| match c {
            '\n' => "\n".to_string(),
            c => " ".repeat(c.len_utf8()),
        })
        .collect();
    text.replace_range(start..end, &blank);
}

fn diagnose(text: &str, path: &str, err: &toml::de::Error) -> Diagnostic {
    let raw = err.message().trim().to_string();
    let offset = err.span().map(|s| s.start);
    let location = offset.map(|o| key_at(text, o));

    let mut diag = if let Some((unknown, expected)) = parse_unknown_field(&raw) {
        let table = location.as_ref().and_then(|l| l.table.clone());
        let place = match &table {
            Some(t) => format!(" in [{t}]"),
            None => String::new(),
        };
        let mut d = Diagnostic::new(path, format!("unknown key `{unknown}`{place}"));
        match suggest(&unknown, expected.iter().map(String::as_str)) {
            Some(near) => d = d.help(format!("did you mean `{near}`?")),
            None if !expected.is_empty() => {
                d = d.help(format!(
                    "the keys allowed here are: {}",
                    expected
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
            None => {}
        }
        d
    } else {
        let key = location.as_ref().and_then(|l| l.qualified_key());
        let message = match key {
            Some(k) if !raw.contains(&format!("`{k}`")) => format!("key `{k}`: {raw}"),
            _ => raw.clone(),
        };
        Diagnostic::new(path, message)
    };
    if let Some(o) = offset {
        diag = diag.at_offset(text, o);
    }
    diag
}

/// serde's message for `deny_unknown_fields`: "unknown field `x`, expected one of `a`, `b`"
/// or "unknown field `x`, expected `a`" or "unknown field `x`, there are no fields".
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let end = rest.find('`')?;
    let unknown = rest[..end].to_string();
    let tail = &rest[end + 1..];
    let expected = tail
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    Some((unknown, expected))
}

/// How close `candidate` is to `word` as a likely typo (higher is closer), or `None` when
/// it is not close: a high Jaro-Winkler similarity, or few edits for the word's length
/// (a transposition like `wbe` for `web` counts as one).
pub fn closeness(word: &str, candidate: &str) -> Option<f64> {
    let jw = strsim::jaro_winkler(word, candidate);
    let edits = strsim::osa_distance(word, candidate);
    let allowed = (word.chars().count() / 3).max(1);
    (jw >= 0.8 || edits <= allowed).then_some(jw - edits as f64 * 0.01)
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if let Some(score) = closeness(word, c)
            && best.is_none_or(|(b, _)| score > b)
        {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// The line where the dotted key `path` is set in `text` (`network.live.subnet`, or the
/// line of an inline table holding it: `run.env.A` in `env = { A = "x" }` under `[run]`).
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        if k.is_empty() || k.starts_with('#') {
            continue;
        }
        let full = if table.is_empty() {
            k.to_string()
        } else {
            format!("{table}.{k}")
        };
        if full == path || path.starts_with(&format!("{full}.")) {
            return Some(i + 1);
        }
    }
    None
}

struct Location {
    table: Option<String>,
    key: Option<String>,
}

impl Location {
    fn qualified_key(&self) -> Option<String> {
        let key = self.key.as_ref()?;
        Some(match &self.table {
            Some(t) => format!("{t}.{key}"),
            None => key.clone(),
        })
    }
}

/// The table header and key of the line holding `offset`, read from the text itself.
fn key_at(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let mut table = None;
    let mut key = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let is_header = trimmed.starts_with('[');
        if is_header && pos <= offset {
            table = Some(
                trimmed
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            );
        }
        if offset < pos + line.len() {
            if !is_header && let Some((k, _)) = trimmed.split_once('=') {
                let k = k.trim().trim_matches('"');
                if !k.is_empty() && !k.starts_with('#') {
                    key = Some(k.to_string());
                }
            }
            break;
        }
        pos += line.len();
    }
    Location { table, key }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Run {
        ports: Option<Vec<String>>,
        memory: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: Option<String>,
        run: Option<Run>,
    }

    #[test]
    fn unknown_key_suggests_the_near_miss() {
        let text = "name = \"x\"\n\n[run]\nprots = [\"80:80\"]\n";
        let d = parse::<Doc>(text, "c.toml").unwrap_err();
        assert_eq!(d.line, Some(4), "{d}");
        assert_eq!(d.col, Some(1));
        assert!(d.message.contains("unknown key `prots` in [run]"), "{d}");
        assert_eq!(d.help.as_deref(), Some("did you mean `ports`?"));
    }

    #[test]
    fn unknown_key_far_from_everything_lists_allowed_keys() {
        let text = "[run]\nzzz = 1\n";
        let d = parse::<Doc>(text, "c.toml").unwrap_err();
        assert!(d.help.unwrap().contains("`ports`, `memory`"));
    }

    #[test]
    fn wrong_type_names_the_key_and_line() {
        let text = "[run]\nmemory = 12\n";
        let d = parse::<Doc>(text, "c.toml").unwrap_err();
        assert_eq!(d.line, Some(2), "{d}");
        assert!(d.message.contains("run.memory"), "{d}");
    }

    #[test]
    fn syntax_error_is_located() {
        let text = "name = \"x\"\n[run\n";
        let d = parse::<Doc>(text, "c.toml").unwrap_err();
        assert_eq!(d.line, Some(2), "{d}");
    }
}
