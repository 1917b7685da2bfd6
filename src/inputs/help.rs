//! What `--help` says: the inputs by group (from the table), the worked examples, the exit
//! codes and the environment variables read besides `INPUT_<NAME>`.

use super::{Group, INPUTS, Kind};

/// The environment variables artifetch reads besides `INPUT_<NAME>`, as `--help` lists them:
/// the names, and what each is for. tests/it/help.rs checks that the code reads every one.
pub const ENVIRONMENT: &[(&[&str], &str)] = &[
    (
        &["GITHUB_TOKEN", "GH_TOKEN"],
        "the token when github-token is not given (GH_TOKEN, as gh reads it, when GITHUB_TOKEN is not set)",
    ),
    (
        &["GITHUB_REPOSITORY"],
        "the repository when repository is not given",
    ),
    (&["GITHUB_RUN_ID"], "the current run: run-id's default"),
    (
        &["GITHUB_RUN_NUMBER", "GITHUB_WORKFLOW"],
        "the current run's #number and workflow name, for the job summary",
    ),
    (
        &["GITHUB_API_URL", "GITHUB_SERVER_URL"],
        "the API and the web server (GitHub Enterprise Server); default https://api.github.com, https://github.com",
    ),
    (
        &["GITHUB_WORKSPACE"],
        "path's default, and where pin files (@path) are read from",
    ),
    (
        &["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"],
        "the files the outputs and the job summary are written to",
    ),
    (
        &["GITHUB_ACTIONS"],
        "true: speak in workflow commands (annotations, log groups, masked secrets)",
    ),
    (
        &["RUNNER_TEMP"],
        "where downloads are staged (else the system's temp directory)",
    ),
    (
        &["RUNNER_DEBUG"],
        "1: log every HTTP request and its status",
    ),
    (&["ARTIFETCH_CACHE_DIR"], "cache-dir's default"),
    (
        &["SSL_CERT_FILE"],
        "PEM certificates trusted besides the system's (a GHES internal CA)",
    ),
    (
        &["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"],
        "proxies, also lower-case (a plain-http API through a proxy is refused)",
    ),
    (
        &["HOME", "USERPROFILE"],
        "what a leading ~ in path and cache-dir stands for",
    ),
];

/// The exit codes the binary uses, and when. `main_with` returns nothing else.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        0,
        "done: everything selected was fetched (or, with dry-run, would be); also when nothing matched and if-no-artifact-found is warn or ignore",
    ),
    (
        1,
        "failed: a bad input, no run or no artifact (if-no-artifact-found: fail), an API error, an artifact that failed, timeout or cancellation; the log's error annotations say which",
    ),
];

/// The worked examples of `--help`: what it does, and the command line. tests/it/help.rs runs each
/// against the fake GitHub (with its repository and run id for `octo/hello` and `1234567890`).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "The artifact dist of one run into ./out (with GITHUB_TOKEN set, e.g. to $(gh auth token)):",
        "artifetch --repository octo/hello --run-id 1234567890 --name dist --path out",
    ),
    (
        "What the newest successful build.yml run on main that still has a pkg-* artifact would give, downloading nothing:",
        "artifetch --repository octo/hello --workflow build.yml --branch main --pattern 'pkg-*' --search-artifacts --dry-run",
    ),
];

/// The `--help` text, built from the tables: the inputs by group, the examples, the exit codes
/// and the environment.
pub fn help() -> String {
    let mut out = format!(
        "artifetch {}\nFetch GitHub Actions workflow artifacts: streamed, verified, safely extracted.\n\n\
         USAGE:\n  artifetch [--<input> <value>]...\n  \
         artifetch manifest <DIR>   print DIR's canonical manifest (its files-digest on stderr)\n  \
         artifetch attestation verify --bundle <FILE> (--file <FILE> | --digest sha256:<HEX>) [...]\n  \
         \x20                          verify one Sigstore bundle offline (--help for its flags)\n\n\
         Every input is also read from INPUT_<NAME> (as GitHub Actions sets it); flags win.\n\
         A flag alone means true (--dry-run); --dry-run=false turns it off.\n\
         <... lines>: one value holding several lines (in bash: $'a\\nb').\n",
        env!("CARGO_PKG_VERSION")
    );
    // The inputs, group by group, in the table's order within a group.
    for group in Group::ALL {
        out.push_str(&format!("\n{}\n", group.heading()));
        for input in INPUTS.iter().filter(|i| i.group == group) {
            let value = match input.kind {
                Kind::Bool => String::new(),
                Kind::Text => format!(" {}", input.placeholder()),
            };
            let default = if input.default.is_empty() || input.kind == Kind::Bool {
                String::new()
            } else {
                format!(" [default: {}]", input.default)
            };
            out.push_str(&format!(
                "  --{}{value}\n      {}{default}\n",
                input.name, input.help
            ));
        }
    }
    out.push_str(
        "\nOTHER\n  -h, --help      Print this help\n  -V, --version   Print the version\n",
    );
    // What a person needs besides the inputs.
    out.push_str("\nEXAMPLES\n");
    for (what, command) in EXAMPLES {
        out.push_str(&format!("  # {what}\n  {command}\n"));
    }
    out.push_str("\nEXIT CODES\n");
    for (code, when) in EXIT_CODES {
        out.push_str(&format!("  {code}  {when}\n"));
    }
    out.push_str("\nENVIRONMENT\n");
    for (names, what) in ENVIRONMENT {
        out.push_str(&format!("  {}\n      {what}\n", names.join(", ")));
    }
    out
}
