//! Name resolution shared by every command: an exact name wins; a unique prefix resolves
//! (`f` -> `filewatch`); an ambiguous prefix lists its candidates; an unknown name gets the
//! closest names. Never a silent first match (the old launcher's defect). A node built for
//! another platform of a directory (`web@arm64`) is matched only by its whole name.

use crate::error::{Error, Result};
use crate::tomlfile::closeness;

/// Resolve each of `wanted` against `names`; returns indexes into `names`, deduplicated,
/// in the order given.
pub fn resolve(wanted: &[String], names: &[&str]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for w in wanted {
        let i = resolve_one(w, names)?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

pub fn resolve_one(wanted: &str, names: &[&str]) -> Result<usize> {
    if let Some(i) = names.iter().position(|n| *n == wanted) {
        return Ok(i);
    }
    let matches: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.starts_with(wanted) && !n.contains('@'))
        .map(|(i, _)| i)
        .collect();
    match matches.len() {
        1 => Ok(matches[0]),
        0 => {
            let mut scored: Vec<(f64, &str)> = names
                .iter()
                .filter(|n| !n.contains('@'))
                .filter_map(|n| closeness(wanted, n).map(|s| (s, *n)))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let help = if scored.is_empty() {
                format!("known names: {}", names.join(", "))
            } else {
                format!(
                    "did you mean {}?",
                    scored
                        .iter()
                        .take(3)
                        .map(|(_, n)| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            Err(Error::usage_help(
                format!("no container or baseline named `{wanted}`"),
                help,
            ))
        }
        _ => {
            let cands: Vec<&str> = matches.iter().map(|i| names[*i]).collect();
            Err(Error::usage_help(
                format!(
                    "`{wanted}` is ambiguous: it is a prefix of {}",
                    cands.join(", ")
                ),
                "type more of the name",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = ["baseline", "filewatch", "web", "webstats", "files"];

    #[test]
    fn another_platform_s_node_is_named_only_by_its_whole_name() {
        let names = ["baseline", "web", "web@arm64"];
        assert_eq!(resolve_one("w", &names).unwrap(), 1);
        assert_eq!(resolve_one("web@arm64", &names).unwrap(), 2);
        assert!(resolve_one("web@", &names).is_err());
    }

    #[test]
    fn exact_wins_over_prefix() {
        assert_eq!(resolve_one("web", &NAMES).unwrap(), 2);
    }

    #[test]
    fn unique_prefix_resolves() {
        assert_eq!(resolve_one("filew", &NAMES).unwrap(), 1);
        assert_eq!(resolve_one("b", &NAMES).unwrap(), 0);
    }

    #[test]
    fn ambiguous_prefix_lists_candidates() {
        let e = resolve_one("fil", &NAMES).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.render();
        assert!(msg.contains("filewatch") && msg.contains("files"), "{msg}");
    }

    #[test]
    fn unknown_name_suggests() {
        let e = resolve_one("wbe", &NAMES).unwrap_err();
        assert!(e.render().contains("`web`"), "{}", e.render());
    }

    #[test]
    fn resolve_dedups() {
        let got = resolve(&["web".into(), "we".into(), "w".into()], &["web"]).unwrap();
        assert_eq!(got, vec![0]);
    }
}
