//! Posting a comparison on its pull request: the markdown report under memgate's hidden
//! marker (one per testbed), cut to GitHub's size limit, through [`GithubApi`]. Used by
//! `memgate comment` (the action's step that holds the token and runs no benchmark) and
//! by `memgate check --github-comment` (for local use). Trouble with the comment is a
//! warning: it never changes the verdict. Main entry: [`comment`].

use super::comment::{COMMENT_LIMIT, GithubApi, Posted};
use super::{Actions, workflow};
use crate::compare::Report;
use crate::error::{Error, Result};
use crate::report::comparison;

/// Posts `report` on pull request `number` (default: the one of this workflow run), or
/// edits memgate's earlier comment there. Only an interrupt is an error; anything else
/// that keeps the comment from being posted is printed as a warning.
pub fn comment(report: &Report, actions: &Actions, number: Option<u64>) -> Result<()> {
    let markdown = String::from_utf8_lossy(&comparison::markdown::render(report)).into_owned();
    match post(report, actions, number, &markdown) {
        Ok(done) => eprintln!("memgate: {done}"),
        Err(Error::Interrupted) => return Err(Error::Interrupted),
        Err(why) => {
            let text = format!("memgate did not comment on the pull request: {why}");
            if actions.active {
                workflow::command(&workflow::warning(&text));
            } else {
                eprintln!("memgate: warning: {text}");
            }
        }
    }
    Ok(())
}

/// Posts the comment; says what was done.
fn post(report: &Report, actions: &Actions, number: Option<u64>, markdown: &str) -> Result<String> {
    let declined = |why: &str| Error::Usage(why.to_owned());
    let token = std::env::var("GITHUB_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| declined("GITHUB_TOKEN is not set"))?;
    let repository = actions
        .repository
        .as_deref()
        .ok_or_else(|| declined("GITHUB_REPOSITORY is not set"))?;
    let number = number
        .or_else(|| actions.pull_request().map(|pr| pr.number))
        .ok_or_else(|| {
            declined(
                "this is not a pull request's workflow run (GITHUB_EVENT_PATH has no pull_request): name one with --pr",
            )
        })?;
    let marker = format!("<!-- memgate report, testbed {} -->", report.testbed);
    let body = workflow::fit(
        &format!("{marker}\n{markdown}"),
        COMMENT_LIMIT,
        "\n\n*The report is cut here: a comment holds at most 65,536 characters. The job summary has all of it.*\n",
    );
    let api = GithubApi::new(&actions.api_url, &token, repository)?;
    match api.upsert_comment(number, &marker, &body)? {
        Posted::Created(id) => Ok(format!(
            "commented on pull request #{number} (comment {id})"
        )),
        Posted::Updated(id) => Ok(format!(
            "updated its comment on pull request #{number} (comment {id})"
        )),
        Posted::NotAllowed(why) => {
            let fork = actions
                .pull_request()
                .and_then(|pr| pr.head.as_ref()?.repo.as_ref())
                .is_some_and(|r| r.fork);
            let hint = if fork {
                "a pull request from a fork gets a read-only token"
            } else {
                "give the job `pull-requests: write`"
            };
            Err(declined(&format!(
                "{why}: {hint}; the job summary has the report"
            )))
        }
    }
}
