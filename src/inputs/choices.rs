//! The inputs that take one of a few words, each word written once, beside the value it stands
//! for. The table's row takes its words from here ([`words`]), so `--help`'s placeholder, the
//! `action.yml` check and the parse in `settings` read the same list.

/// A value an input names with one of a few words.
pub trait Choice: Copy + 'static {
    /// Every word the input accepts, and what it stands for, in the order `--help` shows them.
    const CHOICES: &'static [(&'static str, Self)];
}

/// The `N` words of a choice, for its row of the table (evaluated in a `const`: a wrong `N`
/// fails the build).
pub(super) const fn words<T: Copy, const N: usize>(
    choices: &[(&'static str, T)],
) -> [&'static str; N] {
    assert!(choices.len() == N, "the count of a choice's words");
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = choices[i].0;
        i += 1;
    }
    out
}

/// `digest-mismatch`: how loudly to treat a digest mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warn,
    Info,
    Ignore,
}

impl Choice for Severity {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("error", Severity::Error),
        ("warn", Severity::Warn),
        ("info", Severity::Info),
        ("ignore", Severity::Ignore),
    ];
}

/// `partial-download`: fetch only the selected entries' bytes by range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partial {
    /// When `files` takes a small part of a large archive.
    Auto,
    /// Whenever `files` is given and the checks allow it.
    Always,
    Never,
}

impl Choice for Partial {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("auto", Partial::Auto),
        ("true", Partial::Always),
        ("false", Partial::Never),
    ];
}

/// `summary`: when the job summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryMode {
    Always,
    Never,
    /// Only when the step did not fully succeed (a failure, or a warning such as nothing matched).
    OnFailure,
}

impl Choice for SummaryMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("true", SummaryMode::Always),
        ("false", SummaryMode::Never),
        ("on-failure", SummaryMode::OnFailure),
    ];
}

/// `if-no-artifact-found`: what to do when the selection matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    Fail,
    Warn,
    Ignore,
}

impl Choice for NotFound {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("fail", NotFound::Fail),
        ("warn", NotFound::Warn),
        ("ignore", NotFound::Ignore),
    ];
}

/// `attestation-from`: which run may have made the attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationFrom {
    /// The run the artifact came from (its Run Invocation URI names that run).
    Run,
    /// Any run of `attestation-signer-workflow` at its pinned ref (an artifact re-uploaded).
    Workflow,
}

impl Choice for AttestationFrom {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("run", AttestationFrom::Run),
        ("workflow", AttestationFrom::Workflow),
    ];
}

/// `attestation-runner`: which runners may have signed an attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// GitHub-hosted runners only: a self-hosted runner's attestation is refused.
    GithubHosted,
    Any,
}

impl Choice for Runner {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("github-hosted", Runner::GithubHosted),
        ("any", Runner::Any),
    ];
}
