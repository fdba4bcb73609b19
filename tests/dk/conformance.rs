//! A fixed sample of the real-file corpora (`tests/corpus/`) through the differential
//! harnesses of `tests/support/conformance.rs`; `cargo xtask conformance` runs them on
//! everything and writes CONFORMANCE.md. Each floor is what the whole corpus measures: a
//! change that makes dk disagree with the reference on real files fails here.

use std::collections::BTreeSet;

use crate::common::dk_path;
use crate::conformance_support as c;

/// Every `step`-th file of `all`: a sample spread over every source of the corpus
/// (`DK_CORPUS_STEP=1` takes them all).
fn sample<T: Clone>(all: &[T], step: usize) -> Vec<T> {
    all.iter().step_by(step).cloned().collect()
}

#[test]
fn dk_lint_agrees_with_hadolint_on_a_sample_of_real_dockerfiles() {
    let ids: BTreeSet<String> = dk::lint::hadolint_ids()
        .into_iter()
        .map(String::from)
        .collect();
    let files = sample(
        &c::dockerfiles(),
        crate::common::env_number("DK_CORPUS_STEP", 6),
    );
    assert!(files.len() >= 40, "{} files", files.len());
    let stats = c::lint_corpus(&dk_path(), &files, &ids, &crate::common::unique("dkconf"));
    eprintln!(
        "{} files: agreement {:.3}, both {}, dk only {:?}, Hadolint only {:?}, plan refused {:?}",
        stats.files,
        stats.agreement(),
        stats.both,
        stats.dk_only,
        stats.hadolint_only,
        stats.plan_refused
    );
    assert!(
        stats.both > 50,
        "the sample has findings to compare: {}",
        stats.both
    );
    assert!(
        stats
            .hadolint_unparsed
            .iter()
            .all(|f| !f.ends_with("(not classified)")),
        "Hadolint refuses a file for a reason not classified: {:?}",
        stats.hadolint_unparsed
    );
    assert!(
        stats.agreement() >= AGREEMENT_FLOOR,
        "agreement {:.3} < {AGREEMENT_FLOOR}: dk only {:?}; Hadolint only {:?}",
        stats.agreement(),
        stats.dk_only,
        stats.hadolint_only
    );
    assert!(
        stats.plan_refused.is_empty(),
        "every sampled Dockerfile plans as its own node: {:?}",
        stats.plan_refused
    );
}

#[test]
fn real_compose_files_import_and_plan_as_docker_compose_reads_them() {
    let files = sample(
        &c::compose_files(),
        crate::common::env_number("DK_CORPUS_STEP", 5),
    );
    assert!(files.len() >= 10, "{} files", files.len());
    let stats = c::compose_corpus(&dk_path(), &files, &crate::common::unique("dkconf"));
    eprintln!("{stats:?}");
    // Every refusal of the reference is classified: a Compose v1 difference, by its rule.
    for (file, message) in &stats.reference_refused {
        assert!(
            c::v1_difference(message).is_some(),
            "docker-compose refuses {file} for a reason not classified: {message}"
        );
    }
    // Where both read a file, their resolved models agree service by service, key by key.
    assert!(stats.keys_compared > 0, "{stats:?}");
    assert!(
        stats.key_differences.is_empty(),
        "the resolved models differ: {:#?}",
        stats.key_differences
    );
    // Every refusal of dk's is one the specification makes too.
    for (file, message) in &stats.refused {
        assert!(
            c::spec_refusal(message).is_some(),
            "dk refuses {file} for a reason the specification does not give: {message}"
        );
    }
    let accepted = stats.files - stats.reference_refused.len();
    assert!(
        stats.planned >= accepted,
        "docker-compose accepts {accepted} of {}, dk imports and plans {}: {:?}",
        stats.files,
        stats.planned,
        stats.refused
    );
}

/// The whole corpus's agreement on 2026-12-04 (CONFORMANCE.md): 528 findings, all shared.
const AGREEMENT_FLOOR: f64 = 1.0;
