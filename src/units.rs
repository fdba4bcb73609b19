//! Human-friendly durations (`10s`, `500ms`, `2m`) and byte sizes (`128m`, `5MB`, `1GiB`)
//! as they appear in manifests, and `Text<T>`: a manifest value parsed once, at load time,
//! that keeps the text it was written as.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value written as text in a manifest (`"10s"`, `"64m"`, `"8080:80"`), parsed when the
/// manifest is loaded: a bad value is a definition error at its file:line, and code that
/// launches containers only ever sees the typed value. It serializes back as the text, so
/// hashes of manifest sections do not depend on how the value is represented in memory.
#[derive(Clone, PartialEq)]
pub struct Text<T> {
    text: String,
    value: T,
}

/// How a `Text<T>` value is parsed.
pub trait FromText: Sized {
    fn from_text(text: &str) -> Result<Self, String>;
    /// Stands in for a value that did not parse while the rest of the file is read (the
    /// load fails with every such error; the placeholder is never used).
    fn placeholder() -> Self;
}

/// A value that did not parse: its byte span in the file, and why.
pub type ValueError = (std::ops::Range<usize>, String);

thread_local! {
    /// Value errors of the file being read.
    static VALUE_ERRORS: std::cell::RefCell<Option<Vec<ValueError>>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `parse` collecting the errors of `Text` values instead of stopping at the first:
/// a file with three bad values gets three diagnostics.
pub fn collecting_value_errors<R>(parse: impl FnOnce() -> R) -> (R, Vec<ValueError>) {
    let previous = VALUE_ERRORS.with(|c| c.replace(Some(Vec::new())));
    let r = parse();
    let errors = VALUE_ERRORS
        .with(|c| c.replace(previous))
        .unwrap_or_default();
    (r, errors)
}

impl<T> Text<T> {
    pub fn get(&self) -> &T {
        &self.value
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T: FromText> Text<T> {
    pub fn parse(text: &str) -> Result<Text<T>, String> {
        Ok(Text {
            value: T::from_text(text)?,
            text: text.to_string(),
        })
    }
}

impl<T> fmt::Debug for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

impl<T> fmt::Display for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de, T: FromText> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<String>::deserialize(d)?;
        let span = spanned.span();
        let text = spanned.into_inner();
        match T::from_text(&text) {
            Ok(value) => Ok(Text { text, value }),
            Err(e) => {
                let collected = VALUE_ERRORS.with(|c| match c.borrow_mut().as_mut() {
                    Some(errors) => {
                        errors.push((span, e.clone()));
                        true
                    }
                    None => false,
                });
                if collected {
                    Ok(Text {
                        text,
                        value: T::placeholder(),
                    })
                } else {
                    Err(serde::de::Error::custom(e))
                }
            }
        }
    }
}

impl<T> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl FromText for Duration {
    fn from_text(text: &str) -> Result<Self, String> {
        parse_duration(text)
    }
    fn placeholder() -> Self {
        Duration::ZERO
    }
}

/// A byte size (`64m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl FromText for Size {
    fn from_text(text: &str) -> Result<Self, String> {
        parse_size(text).map(Size)
    }
    fn placeholder() -> Self {
        Size(0)
    }
}

impl FromText for std::net::Ipv4Addr {
    fn from_text(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|_| format!("`{text}` is not an IPv4 address"))
    }
    fn placeholder() -> Self {
        std::net::Ipv4Addr::UNSPECIFIED
    }
}

/// File permission bits written in octal (`"0750"`, `"644"`), at most `07777`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub u32);

impl FromText for Mode {
    fn from_text(text: &str) -> Result<Self, String> {
        let bits = (!text.is_empty() && text.len() <= 5)
            .then(|| u32::from_str_radix(text, 8).ok())
            .flatten()
            .filter(|v| *v <= 0o7777);
        bits.map(Mode)
            .ok_or_else(|| format!("`{text}` is not an octal mode like \"0750\""))
    }
    fn placeholder() -> Self {
        Mode(0)
    }
}

pub type DurationText = Text<Duration>;
pub type SizeText = Text<Size>;
pub type ModeText = Text<Mode>;

/// `12.5ms` -> (12.5, "ms"); `None` when there is no number in front.
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit.trim()))
}

/// Parse `500ms`, `10s`, `2m`, `1h`, `1d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (value, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a duration (examples: 500ms, 10s, 2m, 1h)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}` (use ms, s, m, h or d)"
            ));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{text}` is not a valid duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parse a byte size: `512`, `64k`, `128m`, `1g`, `5MB`, `1GiB` (k/m/g are binary, as Docker's).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (value, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a size (examples: 64k, 128m, 1g)"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use k, m or g)"
            ));
        }
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` is not a valid size"));
    }
    Ok((value * mult as f64) as u64)
}

/// `1.5 MiB`-style rendering for messages.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `1.23s` / `45ms` rendering for summaries.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

/// `2026-11-23 12:34:56 UTC` for a unix time.
pub fn human_time(unix: u64) -> String {
    let days = (unix / 86400) as i64;
    let secs = unix % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// `3 built, 5 fresh in 1.2s`: the non-zero counts, in the order given.
pub fn summary_line(counts: &[(&str, usize)], elapsed: Duration) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    format!("{} in {}", parts.join(", "), human_duration(elapsed))
}

/// The time since the epoch (zero when the clock is before it): the one reading of the
/// wall clock that records, log names and the daemon's event filters use.
pub fn since_epoch() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Seconds since the epoch.
pub fn now_unix() -> u64 {
    since_epoch().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(human_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(human_time(951_868_800), "2000-03-01 00:00:00 UTC");
        assert_eq!(human_time(1_795_435_148), "2026-11-23 11:59:08 UTC");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64k").unwrap(), 65536);
        assert_eq!(parse_size("128m").unwrap(), 128 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("5MB").unwrap(), 5 << 20);
        assert!(parse_size("5 bananas").is_err());
        assert_eq!(human_size(1536), "1.5 KiB");
    }
}
