//! Raw inputs + the runner's `GITHUB_*` / `RUNNER_*` variables -> a validated [`Settings`]: the
//! configs each stage takes.
//!
//! Every bad input is caught here, before any request or file write, with an error that names
//! the input and says what was expected. Nothing later re-reads the environment. As in ripgrep's
//! flags: the table in `inputs` defines each input (its name, choices, default, help), `low.rs`
//! parses them all into flat values, and [`Settings`] deals those out, one config per stage.

use crate::inputs::RawInputs;

use anyhow::Result;

mod attestation;
mod low;
mod places;
mod search;
mod selection;
mod source;
mod stages;
mod timing;
mod values;

pub(crate) use crate::inputs::choices::{
    AttestationFrom, NotFound, Partial, Severity, SummaryMode,
};
pub(crate) use attestation::Attestation;
pub(crate) use search::{FindConfig, RunMode, WaitFor};
pub(crate) use selection::Selection;
pub(crate) use source::{Access, Source};
pub(crate) use stages::{FetchConfig, PlanConfig, ReportConfig, StepConfig};
pub(crate) use timing::Timing;

/// The validated inputs, as the configs of the stages that take them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Whose artifacts, on which servers.
    pub(crate) source: Source,
    /// The API client's token, budget and extra trusted roots.
    pub(crate) access: Access,
    /// Retries, stalls, progress lines and the step's `timeout` (the clients, the wait, the step).
    pub(crate) timing: Timing,
    /// Resolve and the run search: which run.
    pub(crate) find: FindConfig,
    /// The plan: which artifacts, and where each goes.
    pub(crate) plan: PlanConfig,
    /// The fetch of each artifact.
    pub(crate) fetch: FetchConfig,
    /// Outputs and the job summary.
    pub(crate) report: ReportConfig,
    /// The step around the stages.
    pub(crate) step: StepConfig,
    /// Accepted, but worth a warning in the log (settings cannot log themselves).
    pub(crate) warnings: Vec<String>,
}

/// Reads the environment through `env` so tests can hand in their own.
pub(crate) fn resolve(raw: &RawInputs, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
    low::parse(raw, env).map(Settings::from)
}

impl From<low::Low> for Settings {
    fn from(low: low::Low) -> Settings {
        Settings {
            access: Access {
                token: low.token.clone(),
                max_api_requests: low.max_api_requests,
                extra_ca: low.extra_ca.clone(),
            },
            find: find(&low),
            plan: plan(&low),
            fetch: fetch(&low),
            report: report(&low),
            step: StepConfig {
                dry_run: low.handling.dry_run,
                delete_after: low.which.delete_after,
                if_no_artifact_found: low.handling.if_no_artifact_found,
                temp_root: low.landing.temp_root.clone(),
            },
            source: low.source,
            timing: low.timing,
            warnings: low.warnings,
        }
    }
}

fn find(low: &low::Low) -> FindConfig {
    FindConfig {
        source: low.source.clone(),
        run: low.which.run,
        search: low.which.search.clone(),
        fallback: low.which.fallback.clone(),
        this_run: low.this_run.clone(),
        selection: low.which.selection.clone(),
        backoff: low.timing.backoff,
    }
}

fn plan(low: &low::Low) -> PlanConfig {
    PlanConfig {
        source: low.source.clone(),
        selection: low.which.selection.clone(),
        shard: low.shard,
        path: low.landing.path.clone(),
        merge_multiple: low.handling.merge_multiple,
        skip_decompress: low.landing.skip_decompress,
        allow_git_paths: low.handling.allow_git_paths,
    }
}

fn fetch(low: &low::Low) -> FetchConfig {
    let (h, l) = (&low.handling, &low.landing);
    FetchConfig {
        files: l.files.clone(),
        cache: h.cache.clone(),
        partial: h.partial,
        merge_multiple: h.merge_multiple,
        allow_git_paths: h.allow_git_paths,
        skip_decompress: l.skip_decompress,
        digest_mismatch: h.digest_mismatch,
        if_no_artifact_found: h.if_no_artifact_found,
        max_size: h.max_size,
        max_files: h.max_files,
        max_ratio: h.max_ratio,
        concurrency: h.concurrency,
        path: l.path.clone(),
        pins: l.pins.clone(),
        manifest: l.manifest,
        attestation: low.attestation.clone(),
    }
}

fn report(low: &low::Low) -> ReportConfig {
    ReportConfig {
        source: low.source.clone(),
        selection: low.which.selection.clone(),
        summary: low.handling.summary,
        workspace: low.landing.workspace.clone(),
        path: low.landing.path.clone(),
        dry_run: low.handling.dry_run,
        chained: !low.which.fallback.is_empty(),
        pins: low.landing.pins.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{Command, parse};
    use std::collections::BTreeMap;
    use std::ffi::OsString;
    use std::path::PathBuf;

    fn settings(args: &[&str], extra_env: &[(&str, &str)]) -> Result<Settings> {
        let mut env: BTreeMap<String, String> = [
            ("GITHUB_TOKEN", "t"),
            ("GITHUB_REPOSITORY", "octo/hello"),
            ("GITHUB_RUN_ID", "5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra_env {
            env.insert(k.to_string(), v.to_string());
        }
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let get = |k: &str| env.get(k).cloned();
        let Command::Run(raw) = parse(&args, &get)? else {
            panic!()
        };
        resolve(&raw, &get)
    }

    fn err(args: &[&str]) -> String {
        format!("{:#}", settings(args, &[]).unwrap_err())
    }

    #[test]
    fn defaults_come_from_the_runner() {
        let s = settings(&[], &[("GITHUB_WORKSPACE", "/ws")]).unwrap();
        assert_eq!(
            (s.source.owner.as_str(), s.source.repo.as_str(), s.find.run),
            ("octo", "hello", RunMode::Current(5))
        );
        assert_eq!(s.plan.path, PathBuf::from("/ws"));
        assert_eq!(s.source.api_url.as_str(), "https://api.github.com/");
        assert!(matches!(s.find.selection, Selection::All));
        assert_eq!(s.fetch.digest_mismatch, Severity::Error);
        assert_eq!(s.fetch.if_no_artifact_found, NotFound::Fail);
        assert_eq!(s.fetch.max_size, 20 << 30);
    }

    /// The words of an input's row are the ones its parse accepts, and a bad value is answered
    /// with those words, the default first.
    #[test]
    fn every_choice_of_the_table_parses_and_a_bad_one_lists_them() {
        let rows = crate::inputs::INPUTS
            .iter()
            .filter(|i| !i.choices.is_empty());
        assert_eq!(rows.clone().count(), 6);
        for input in rows {
            assert!(input.choices.contains(&input.default), "{}", input.name);
            for word in input.choices {
                let flag = format!("--{}={word}", input.name);
                let extra: &[&str] = match input.name {
                    // `workflow` drops the run binding: it needs a signer workflow with a ref.
                    "attestation-from" => &[
                        "--verify-attestation",
                        "--attestation-signer-workflow=o/r/.github/workflows/a.yml@refs/heads/m",
                    ],
                    _ => &[],
                };
                let args: Vec<&str> = [flag.as_str()]
                    .into_iter()
                    .chain(extra.iter().copied())
                    .collect();
                settings(&args, &[]).unwrap_or_else(|e| panic!("{flag}: {e:#}"));
            }
            let bad = format!("--{}=nonsense", input.name);
            let expected = format!(
                "{}: 'nonsense' is not one of {}",
                input.name,
                input.choices_default_first().join(", ")
            );
            let extra: &[&str] = match input.name {
                "attestation-from" | "attestation-runner" => &["--verify-attestation"],
                _ => &[],
            };
            let args: Vec<&str> = [bad.as_str()]
                .into_iter()
                .chain(extra.iter().copied())
                .collect();
            assert_eq!(format!("{:#}", settings(&args, &[]).unwrap_err()), expected);
        }
    }

    #[test]
    fn every_default_in_the_table_is_what_the_binary_uses() {
        let implicit = format!("{:?}", settings(&[], &[]).unwrap());
        for input in crate::inputs::INPUTS
            .iter()
            .filter(|i| !i.default.is_empty())
        {
            let flag = format!("--{}={}", input.name, input.default);
            let explicit = settings(&[flag.as_str()], &[])
                .unwrap_or_else(|e| panic!("the default of {} does not parse: {e:#}", input.name));
            assert_eq!(format!("{explicit:?}"), implicit, "{}", input.name);
        }
    }

    #[test]
    fn bad_inputs_name_the_input() {
        assert!(err(&["--run-id", "abc"]).starts_with("run-id: 'abc'"));
        assert!(err(&["--run-id", "0"]).starts_with("run-id: '0'"));
        assert!(err(&["--repository", "nope"]).starts_with("repository: 'nope'"));
        assert!(err(&["--repository", "a/b/c"]).starts_with("repository:"));
        assert!(err(&["--repository", "a/"]).starts_with("repository:"));
        assert!(err(&["--merge-multiple=yes"]).starts_with("merge-multiple: 'yes'"));
        assert!(
            err(&["--digest-mismatch", "loud"])
                .starts_with("digest-mismatch: 'loud' is not one of error, warn, info, ignore")
        );
        assert!(err(&["--if-no-artifact-found", "x"]).starts_with("if-no-artifact-found:"));
        assert!(err(&["--artifact-ids", "1,x"]).starts_with("artifact-ids: 'x'"));
        assert!(err(&["--name", "a", "--artifact-ids", "1"]).starts_with("name and artifact-ids"));
        assert!(err(&["--pattern", "["]).contains("pattern '['"));
        assert!(err(&["--max-size", "lots"]).starts_with("max-size:"));
        assert!(
            err(&["--timeout", "soon"]).starts_with("timeout: 'soon' is not a number of minutes")
        );
        assert!(err(&["--stall-timeout", "-1"]).starts_with("stall-timeout:"));
    }

    #[test]
    fn run_mode_follows_the_inputs() {
        let mode = |args: &[&str]| settings(args, &[]).unwrap().find.run;
        assert_eq!(mode(&[]), RunMode::Current(5));
        assert_eq!(mode(&["--run-id", "5"]), RunMode::Current(5));
        assert_eq!(mode(&["--run-id", "9"]), RunMode::Given(9));
        assert_eq!(
            mode(&["--run-id", "5", "--workflow", "build.yml"]),
            RunMode::Search
        );
        assert_eq!(mode(&["--branch", "main"]), RunMode::Search);
        assert_eq!(
            mode(&["--run-id", "9", "--branch", "main"]),
            RunMode::Given(9)
        );
        let s = settings(
            &["--branch", "refs/heads/dev", "--workflow-conclusion", ""],
            &[],
        )
        .unwrap();
        assert_eq!(s.find.search.branch.as_deref(), Some("dev"));
        assert_eq!(s.find.search.conclusion, None);
        let s = settings(&["--branch", "x"], &[]).unwrap();
        assert_eq!(s.find.search.conclusion.as_deref(), Some("success"));
        assert_eq!(s.find.search.max_runs, 200);
    }

    #[test]
    fn bad_search_inputs_name_themselves() {
        assert!(err(&["--commit", "xyz"]).starts_with("commit: 'xyz'"));
        assert!(err(&["--pr", "0"]).starts_with("pr: '0'"));
        assert!(
            err(&["--workflow-conclusion", "great"]).starts_with("workflow-conclusion: 'great'")
        );
        assert!(err(&["--max-runs", "-1"]).starts_with("max-runs:"));
        assert!(err(&["--run-number", "x"]).starts_with("run-number:"));
        assert!(err(&["--wait-timeout", "later"]).starts_with("wait-timeout:"));
    }

    #[test]
    fn plain_http_api_through_a_proxy_is_refused() {
        let http = [("GITHUB_API_URL", "http://ghe.internal/api/v3")];
        let e = format!(
            "{:#}",
            settings(&[], &[http[0], ("HTTP_PROXY", "http://proxy:3128")]).unwrap_err()
        );
        assert!(
            e.starts_with("GITHUB_API_URL:") && e.contains("proxy"),
            "{e}"
        );
        assert!(
            settings(
                &[],
                &[
                    http[0],
                    ("HTTP_PROXY", "http://p:1"),
                    ("NO_PROXY", "example.com,.internal")
                ]
            )
            .is_ok()
        );
        assert!(settings(&[], &[http[0], ("https_proxy", "http://p:1")]).is_ok());
        let https = ("GITHUB_API_URL", "https://ghe.internal/api/v3");
        assert!(
            settings(
                &[],
                &[
                    https,
                    ("HTTP_PROXY", "http://p:1"),
                    ("HTTPS_PROXY", "http://p:1")
                ]
            )
            .is_ok()
        );
    }

    #[test]
    fn ids_sizes_and_tilde() {
        let s = settings(
            &[
                "--artifact-ids",
                " 3, 1,3 ",
                "--max-size",
                "500MiB",
                "--path",
                "~/out",
            ],
            &[("HOME", "/home/me")],
        )
        .unwrap();
        assert!(matches!(s.find.selection, Selection::Ids(ref v) if v == &[3, 1]));
        assert_eq!(s.fetch.max_size, 500 << 20);
        assert_eq!(s.plan.path, PathBuf::from("/home/me/out"));
    }

    #[test]
    fn ghes_urls_are_kept() {
        let s = settings(
            &[],
            &[
                ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
                ("GITHUB_SERVER_URL", "https://ghe.example"),
            ],
        )
        .unwrap();
        assert_eq!(s.source.api_url.as_str(), "https://ghe.example/api/v3");
        assert_eq!(
            s.source.run_url(5),
            "https://ghe.example/octo/hello/actions/runs/5"
        );
        assert!(s.source.is_ghes());
    }
}
