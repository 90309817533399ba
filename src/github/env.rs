//! The GitHub Actions environment memgate reads: where the job summary and outputs go,
//! which pull request this is, where the API is. Main type: [`Actions`].

use std::path::PathBuf;

use serde::Deserialize;

/// What GitHub Actions tells a step through its environment.
#[derive(Clone, Debug, Default)]
pub struct Actions {
    /// `GITHUB_ACTIONS=true`: running as a workflow step.
    pub active: bool,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    /// `owner/name`.
    pub repository: Option<String>,
    /// `https://api.github.com`, or a GitHub Enterprise server's.
    pub api_url: String,
    pub event: Option<Event>,
}

/// The parts of the triggering event's payload memgate uses.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Event {
    pub pull_request: Option<PullRequest>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub base: Option<Commit>,
    pub head: Option<Head>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Commit {
    pub sha: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Head {
    pub repo: Option<Repository>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Repository {
    #[serde(default)]
    pub fork: bool,
}

impl Actions {
    /// Reads the environment (a missing or unreadable event file is no event).
    pub fn from_env() -> Actions {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let event = var("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| serde_json::from_str::<Event>(&text).ok());
        Actions {
            active: var("GITHUB_ACTIONS").as_deref() == Some("true"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            repository: var("GITHUB_REPOSITORY"),
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            event,
        }
    }

    /// The pull request this run is for, if any.
    pub fn pull_request(&self) -> Option<&PullRequest> {
        self.event.as_ref()?.pull_request.as_ref()
    }

    /// The pull request's base commit: the gate's default base in a PR workflow.
    pub fn base_sha(&self) -> Option<&str> {
        Some(self.pull_request()?.base.as_ref()?.sha.as_str())
    }
}
