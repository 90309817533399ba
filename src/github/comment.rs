//! The pull-request comment: memgate's report, found again by a hidden marker in a comment
//! the token's own identity wrote and edited in place, else created. Main type:
//! [`GithubApi`] (reqwest, blocking, rustls with the ring provider and bundled root
//! certificates: no OpenSSL, no system CA store).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::runner::interrupt;

/// GitHub's limit on a comment's body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Attempts at one request when GitHub asks memgate to slow down.
const ATTEMPTS: u32 = 4;
/// The longest memgate waits before one retry.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Comments asked for in one page of the list (GitHub's most).
const PER_PAGE: usize = 100;
/// Pages of the list memgate reads at most: 10,000 comments. A server whose `Link`
/// headers lead on past them is misbehaving, and memgate stops rather than post.
const MAX_PAGES: usize = 100;
/// Who the Actions token (an installation token of the GitHub Actions app) writes as.
const ACTIONS_BOT: &str = "github-actions[bot]";

/// What happened to the comment.
#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    Created(u64),
    Updated(u64),
    /// The token may not write (a pull request from a fork): nothing posted.
    NotAllowed(String),
}

pub struct GithubApi {
    client: Client,
    base: String,
    token: String,
    repository: String,
}

/// An answer of the API, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }
}

#[derive(Deserialize)]
struct IssueComment {
    id: u64,
    #[serde(default)]
    body: String,
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    login: String,
}

impl IssueComment {
    /// memgate's own: it opens with the marker, as memgate writes it, and `login` (the
    /// token's identity) wrote it. Anyone else's comment holding the marker (a person
    /// quoting it, another bot or app) is never edited.
    fn is_memgates(&self, marker: &str, login: &str) -> bool {
        self.body.starts_with(marker) && self.user.as_ref().is_some_and(|u| u.login == login)
    }
}

impl GithubApi {
    pub fn new(api_url: &str, token: &str, repository: &str) -> Result<GithubApi> {
        check_api_url(api_url)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // The process-wide default as well, for anything that asks for one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static("2022-11-28"),
        );
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("memgate/", env!("CARGO_PKG_VERSION"))),
        );
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Error::Usage("GITHUB_TOKEN holds characters a header cannot".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        let client = Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Usage(format!("cannot make an HTTP client: {e}")))?;
        Ok(GithubApi {
            client,
            base: api_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            repository: repository.to_owned(),
        })
    }

    /// An error of the API, its text with the token blanked, should any layer ever echo
    /// it.
    fn api_error(&self, text: impl std::fmt::Display) -> Error {
        Error::Git(self.clean(text))
    }

    /// `text` with the token blanked.
    fn clean(&self, text: impl std::fmt::Display) -> String {
        let text = text.to_string();
        if self.token.is_empty() {
            text
        } else {
            text.replace(&self.token, "***")
        }
    }

    /// Sends a request, waiting and retrying (a bounded number of times) when GitHub
    /// answers 429, or 403 with its rate-limit headers. Every wait, the request's own
    /// included, ends with `Error::Interrupted` on Ctrl-C or SIGTERM.
    fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply> {
        let failed = |e: reqwest::Error| self.api_error(format!("GitHub API {method} {url}: {e}"));
        let mut attempt = 1;
        loop {
            let mut request = self.client.request(method.clone(), url);
            if let Some(body) = body {
                request = request.json(body);
            }
            let request = request.build().map_err(failed)?;
            let client = self.client.clone();
            // The body is read on the same thread: a server can stall there as well.
            let reply = interrupt::wait_for(move || {
                let response = client.execute(request)?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes()?.to_vec();
                Ok(Reply {
                    status,
                    headers,
                    body,
                })
            })?
            .map_err(failed)?;
            match retry_wait(reply.status, &reply.headers) {
                Some(wait) if attempt < ATTEMPTS => {
                    eprintln!(
                        "memgate: GitHub asks to wait ({}); retrying in {} s",
                        reply.status,
                        wait.as_secs()
                    );
                    interrupt::sleep(wait)?;
                    attempt += 1;
                }
                _ => return Ok(reply),
            }
        }
    }

    /// Who the token writes as: `MEMGATE_COMMENT_AUTHOR` if set (a GitHub App's token
    /// cannot tell); else the login `GET /user` answers (a personal access token), or
    /// github-actions[bot] when the token may not read a user (401, 404, or a 403 that
    /// says it is an installation's, as the Actions token gets). Any other refusal, and a
    /// rate limit that outlasts the retries, is an error: a personal token taken for the
    /// bot would post a second comment.
    fn identity(&self) -> Result<String> {
        // A GitHub App's own token may not ask who it is: the user names it.
        if let Some(login) = std::env::var("MEMGATE_COMMENT_AUTHOR")
            .ok()
            .filter(|l| !l.trim().is_empty())
        {
            return Ok(login.trim().to_owned());
        }
        let url = format!("{}/user", self.base);
        let reply = self.send(reqwest::Method::GET, &url, None)?;
        if retry_wait(reply.status, &reply.headers).is_some() {
            return Err(self.api_error(format!(
                "GitHub API GET {url}: still rate-limited ({}) after {ATTEMPTS} attempts; nothing posted",
                reply.status
            )));
        }
        match reply.status {
            StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => Ok(ACTIONS_BOT.to_owned()),
            // An installation token (the Actions token) may not read a user, and says so;
            // a 403 for anything else (single sign-on, a secondary limit) says nothing of
            // whose the token is, and a wrong guess would post a second comment.
            StatusCode::FORBIDDEN
                if String::from_utf8_lossy(&reply.body)
                    .contains("Resource not accessible by integration") =>
            {
                Ok(ACTIONS_BOT.to_owned())
            }
            StatusCode::FORBIDDEN => Err(self.api_error(format!(
                "GitHub API GET {url}: refused (403: {}), so whose comment to edit is unknown; nothing posted",
                message_of(&reply.body)
            ))),
            status if status.is_success() => {
                let user: User = reply
                    .json()
                    .map_err(|e| self.api_error(format!("GitHub API GET {url}: {e}")))?;
                if user.login.is_empty() {
                    return Err(self.api_error(format!("GitHub API GET {url}: the answer names no login")));
                }
                Ok(user.login)
            }
            status => Err(self.api_error(format!("GitHub API GET {url}: {status}"))),
        }
    }

    /// Edits memgate's comment (opening with `marker`, by the token's own identity) on
    /// pull request `number`, or creates one.
    pub fn upsert_comment(&self, number: u64, marker: &str, body: &str) -> Result<Posted> {
        let me = self.identity()?;
        let mut url = format!(
            "{}/repos/{}/issues/{number}/comments?per_page={PER_PAGE}",
            self.base, self.repository
        );
        // Every page fetched, so that a `Link` leading back to one is caught. A list that
        // cannot be read to its end is an error, never a post: memgate's comment may be
        // on a page not read, and a second one would follow.
        let mut fetched = HashSet::new();
        let found = loop {
            fetched.insert(url.clone());
            let reply = self.send(reqwest::Method::GET, &url, None)?;
            let status = reply.status;
            if matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                return Ok(Posted::NotAllowed(format!(
                    "reading the comments was refused ({status})"
                )));
            }
            if !status.is_success() {
                return Err(self.api_error(format!("GitHub API GET {url}: {status}")));
            }
            let next = next_link(&reply.headers, &self.base)
                .map_err(|why| self.api_error(format!("GitHub API GET {url}: {why}")))?;
            let comments: Vec<IssueComment> = reply
                .json()
                .map_err(|e| self.api_error(format!("GitHub API GET {url}: {e}")))?;
            if let Some(c) = comments.iter().find(|c| c.is_memgates(marker, &me)) {
                break Some(c.id);
            }
            let Some(next) = next else { break None };
            if fetched.contains(&next) {
                return Err(self.api_error(format!(
                    "GitHub API GET {url}: its next page {next} was fetched already (the Link header loops); nothing posted"
                )));
            }
            if fetched.len() >= MAX_PAGES {
                return Err(self.api_error(format!(
                    "GitHub API: pull request #{number} has more than {MAX_PAGES} pages of {PER_PAGE} comments (the Link header at {url} leads on); nothing posted"
                )));
            }
            url = next;
        };
        let payload = serde_json::json!({ "body": body });
        let create = format!(
            "{}/repos/{}/issues/{number}/comments",
            self.base, self.repository
        );
        let (mut method, mut url) = match found {
            Some(id) => (
                reqwest::Method::PATCH,
                format!(
                    "{}/repos/{}/issues/comments/{id}",
                    self.base, self.repository
                ),
            ),
            None => (reqwest::Method::POST, create.clone()),
        };
        let mut reply = self.send(method.clone(), &url, Some(&payload))?;
        let mut found = found;
        let refused_edit = found.is_some()
            && matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
        if refused_edit {
            // The comment is the identity's, yet may not be edited (a GitHub App's token
            // and the Actions bot's comment, say): a new one then, not none.
            eprintln!(
                "memgate: its earlier comment could not be edited ({}): posting a new one",
                reply.status
            );
            found = None;
            (method, url) = (reqwest::Method::POST, create);
            reply = self.send(method.clone(), &url, Some(&payload))?;
        }
        let status = reply.status;
        if matches!(
            status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
        ) {
            return Ok(Posted::NotAllowed(format!(
                "writing the comment was refused ({status})"
            )));
        }
        if !status.is_success() {
            return Err(self.api_error(format!("GitHub API {method} {url}: {status}")));
        }
        let comment: IssueComment = reply
            .json()
            .map_err(|e| self.api_error(format!("GitHub API {method} {url}: {e}")))?;
        if refused_edit && let Some(author) = comment.user.as_ref().filter(|u| u.login != me) {
            eprintln!(
                "memgate: this token writes as {}, not {me}: set MEMGATE_COMMENT_AUTHOR={} for the next run to edit this comment rather than post another",
                crate::report::text::printable(&author.login),
                crate::report::text::printable(&author.login)
            );
        }
        Ok(match found {
            Some(_) => Posted::Updated(comment.id),
            None => Posted::Created(comment.id),
        })
    }
}

/// The `message` of a GitHub error answer, made one short line (it is the server's text).
fn message_of(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    let message = serde_json::from_slice::<Message>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| "no message".into());
    crate::report::text::printable(&message)
        .chars()
        .take(200)
        .collect()
}

/// How long to wait before retrying, if the answer asks for a wait: 429, or 403 with
/// `retry-after` or an exhausted rate limit (`x-ratelimit-remaining: 0` until
/// `x-ratelimit-reset`). Capped at [`MAX_WAIT`].
fn retry_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return None;
    }
    let header = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    let wait = if let Some(seconds) = header("retry-after") {
        Duration::from_secs(seconds)
    } else if header("x-ratelimit-remaining") == Some(0) {
        let reset = header("x-ratelimit-reset")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Duration::from_secs(reset.saturating_sub(now) + 1)
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Duration::from_secs(5)
    } else {
        return None; // a plain 403: not allowed, not a rate limit
    };
    Some(wait.min(MAX_WAIT))
}

/// The `rel="next"` URL of a `Link` header, if any. One off the API's own origin is an
/// error, never followed: the token goes with every request.
fn next_link(headers: &HeaderMap, base: &str) -> std::result::Result<Option<String>, String> {
    let Some(link) = headers.get("link") else {
        return Ok(None);
    };
    let link = link
        .to_str()
        .map_err(|_| "its Link header is not plain text".to_owned())?;
    let next = link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| p.trim() == "rel=\"next\"");
        is_next.then_some(url)
    });
    match next {
        Some(url) if url.starts_with(&format!("{base}/")) => Ok(Some(url.to_owned())),
        Some(url) => Err(format!(
            "its next page {url} is not on the API ({base}); not followed, nothing posted"
        )),
        None => Ok(None),
    }
}

/// `GITHUB_API_URL` as the client can take it: an http(s) URL whose host is ASCII. memgate
/// is built without Unicode domain names (url's IDNA without ICU4X), so a host such as
/// `bücher.example` gets its punycode form named instead of an obscure request error.
fn check_api_url(api_url: &str) -> Result<()> {
    let bad = |why: &str| Error::Usage(format!("GITHUB_API_URL={api_url:?}: {why}"));
    if !api_url.is_ascii() {
        return Err(bad(
            "memgate takes ASCII URLs only; write an international host name in its \
             punycode form (xn--...)",
        ));
    }
    let url = reqwest::Url::parse(api_url).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(bad("not an http(s) URL with a host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_url_must_be_an_ascii_http_url() {
        for good in [
            "https://api.github.com",
            "https://ghe.example.com/api/v3/",
            "http://127.0.0.1:8080",
            "https://xn--bcher-kva.example/api/v3",
        ] {
            assert!(check_api_url(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("https://bücher.example/api/v3", "punycode form"),
            ("api.github.com", "not a URL"),
            ("ftp://example.com", "not an http(s) URL"),
        ] {
            let message = check_api_url(bad).unwrap_err().to_string();
            assert!(
                message.contains("GITHUB_API_URL=") && message.contains(says),
                "{message}"
            );
        }
    }

    #[test]
    fn next_links_stay_on_the_api() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/repos/o/r/issues/1/comments?page=2>; rel=\"next\", <https://api.github.com/repos/o/r/issues/1/comments?page=5>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&h, "https://api.github.com").unwrap().as_deref(),
            Some("https://api.github.com/repos/o/r/issues/1/comments?page=2")
        );
        let mut last = HeaderMap::new();
        last.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/repos/o/r/issues/1/comments?page=1>; rel=\"prev\"",
            ),
        );
        assert_eq!(next_link(&last, "https://api.github.com"), Ok(None));
        assert_eq!(
            next_link(&HeaderMap::new(), "https://api.github.com"),
            Ok(None)
        );
        for evil in [
            "<https://evil.example/steal>; rel=\"next\"",
            // The API's name as the start of another host's.
            "<https://api.github.com.evil.example/steal>; rel=\"next\"",
        ] {
            let mut h = HeaderMap::new();
            h.insert("link", HeaderValue::from_static(evil));
            let why = next_link(&h, "https://api.github.com").unwrap_err();
            assert!(why.contains("is not on the API"), "{why}");
        }
    }

    #[test]
    fn only_a_comment_opening_with_the_marker_by_the_identity_is_memgates() {
        let marker = "<!-- memgate report, testbed t -->";
        let comment = |body: &str, login: &str| IssueComment {
            id: 1,
            body: body.to_owned(),
            user: Some(User {
                login: login.to_owned(),
            }),
        };
        let ours = format!("{marker}\n### memgate");
        assert!(comment(&ours, "alice").is_memgates(marker, "alice"));
        assert!(!comment(&ours, "bob").is_memgates(marker, "alice"));
        assert!(!comment(&ours, "alice[bot]").is_memgates(marker, "alice"));
        // alice herself, quoting memgate's comment in one of hers.
        let quote = format!("> {marker}\n> ### memgate\n\nWhy did this grow?");
        assert!(!comment(&quote, "alice").is_memgates(marker, "alice"));
        let ghost = IssueComment {
            id: 2,
            body: ours.clone(),
            user: None,
        };
        assert!(!ghost.is_memgates(marker, "alice"));
    }

    #[test]
    fn waits() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &h),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_wait(StatusCode::FORBIDDEN, &HeaderMap::new()), None);
        let mut long = HeaderMap::new();
        long.insert("retry-after", HeaderValue::from_static("3600"));
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &long),
            Some(MAX_WAIT)
        );
        assert_eq!(retry_wait(StatusCode::OK, &h), None);
    }
}
