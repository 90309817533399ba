//! GitHub Actions: the action's own steps in a simulated Actions environment, the job
//! summary, outputs, annotations, `::stop-commands::`, and the pull-request comment
//! against a real HTTP server on 127.0.0.1 playing GitHub's API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{Project, git, live_commands, outputs};

const TOKEN: &str = "ghs_fake_token_4f9c2b7e1d";

/// One request the fake API received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// The login GitHub Actions' own token posts as.
const ACTIONS_BOT: &str = "github-actions[bot]";

/// A comment the fake API holds.
#[derive(Clone, Debug)]
struct Comment {
    id: u64,
    body: String,
    /// Its author's `user.login`.
    login: String,
}

impl Comment {
    fn new(id: u64, body: impl Into<String>, login: &str) -> Comment {
        Comment {
            id,
            body: body.into(),
            login: login.to_owned(),
        }
    }

    fn json(&self) -> Value {
        let kind = if self.login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        };
        json!({"id": self.id, "body": self.body, "user": {"login": self.login, "type": kind}})
    }
}

/// How the fake API behaves.
#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Writes are refused with 403 (a fork's read-only token).
    read_only: bool,
    /// The first request of this kind gets 429 with `retry-after` of these seconds.
    rate_limit: Option<(Call, u64)>,
    /// The first request of this kind gets no answer while the fake runs.
    stall: Option<Call>,
    /// The comments list comes in pages of `page` (with `Link` headers).
    page: Option<usize>,
    /// The comments list's `Link` header misbehaves.
    bad_link: Option<BadLink>,
    /// The token's user, as `GET /user` gives it (a personal access token); `None`:
    /// 403, as for the Actions token, whose comments are github-actions[bot]'s.
    user: Option<&'static str>,
    /// `GET /user` answers a rate limit's 403 (`retry-after: 0`) every time.
    user_rate_limited: bool,
    /// `GET /user` answers 403 for single sign-on, which says nothing of the token.
    user_sso: bool,
    /// Edits are refused with 403 (a token that may create but not edit that comment).
    no_edits: bool,
    /// A GitHub App's token: `GET /user` is refused as for the Actions token, comments
    /// are written as this login, and only its own may be edited.
    app: Option<&'static str>,
}

/// A kind of request to the fake API.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    /// The comments list.
    List,
    /// The comment's creation or edit.
    Write,
}

impl Call {
    fn of(method: &str, path: &str) -> Option<Call> {
        match method {
            "GET" if path.starts_with("/repos/owner/repo/issues/7/comments") => Some(Call::List),
            "POST" | "PATCH" => Some(Call::Write),
            _ => None,
        }
    }

    /// The request line of its first request.
    fn first(self) -> &'static str {
        match self {
            Call::List => "GET /repos/owner/repo/issues/7/comments?per_page=100",
            Call::Write => "POST /repos/owner/repo/issues/7/comments",
        }
    }
}

/// A `Link: rel="next"` a misbehaving server sends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BadLink {
    /// Page 2's next is page 2.
    SamePage,
    /// There is always a next page.
    Endless,
    /// The next page is on another origin (this server, named `localhost`).
    Foreign,
}

/// How many list requests a misbehaving fake answers before it relents (so that a
/// memgate that follows every link still ends, and its test fails instead of hanging).
const RELENT_AFTER: usize = 150;

/// What the fake remembers between requests.
#[derive(Default)]
struct State {
    limited: bool,
    /// The request left without an answer, kept so that its connection stays open.
    stalled: Option<tiny_http::Request>,
    lists: usize,
}

/// A fake of the GitHub comments API: issue #7 of `owner/repo`, comments kept in memory.
struct FakeGithub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    comments: Arc<Mutex<Vec<Comment>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGithub {
    fn start(behaviour: Behaviour) -> FakeGithub {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let comments: Arc<Mutex<Vec<Comment>>> = Arc::new(Mutex::new(Vec::new()));
        // Other people's comments come first.
        for i in 0..behaviour.page.map_or(2, |p| p + 1) {
            comments.lock().unwrap().push(Comment::new(
                100 + i as u64,
                format!("comment {i} by someone else"),
                "someone",
            ));
        }
        let (s, c, u) = (server.clone(), comments.clone(), url.clone());
        let log = seen.clone();
        let thread = std::thread::spawn(move || {
            let mut state = State::default();
            for mut request in s.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let headers = request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.as_str().to_owned(),
                        )
                    })
                    .collect();
                let method = request.method().as_str().to_owned();
                let path = request.url().to_owned();
                log.lock().unwrap().push(Seen {
                    method: method.clone(),
                    url: path.clone(),
                    headers,
                    body: body.clone(),
                });
                if behaviour.stall.is_some()
                    && behaviour.stall == Call::of(&method, &path)
                    && state.stalled.is_none()
                {
                    state.stalled = Some(request);
                    continue;
                }
                let (status, extra, reply) =
                    answer(&method, &path, &body, &c, &u, behaviour, &mut state);
                let mut response = tiny_http::Response::from_string(reply).with_status_code(status);
                response.add_header(
                    tiny_http::Header::from_bytes("content-type", "application/json").unwrap(),
                );
                for (k, v) in extra {
                    response.add_header(
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap(),
                    );
                }
                let _ = request.respond(response);
            }
        });
        FakeGithub {
            url,
            seen,
            comments,
            server,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn methods(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.url))
            .collect()
    }

    /// The comments holding memgate's marker, as (id, author).
    fn marked(&self) -> Vec<(u64, String)> {
        self.comments
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.body.contains("memgate report"))
            .map(|c| (c.id, c.login.clone()))
            .collect()
    }

    /// The marker memgate wrote first in its latest comment.
    fn marker(&self) -> String {
        let comments = self.comments.lock().unwrap();
        let body = &comments.last().expect("a comment").body;
        body.lines().next().unwrap().to_owned()
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(
    method: &str,
    path: &str,
    body: &str,
    comments: &Mutex<Vec<Comment>>,
    base: &str,
    behaviour: Behaviour,
    state: &mut State,
) -> (u16, Vec<(String, String)>, String) {
    let list = "/repos/owner/repo/issues/7/comments";
    let mut comments = comments.lock().unwrap();
    let as_json =
        |c: &[Comment]| json!(c.iter().map(Comment::json).collect::<Vec<_>>()).to_string();
    if let Some((limited, seconds)) = behaviour.rate_limit
        && Call::of(method, path) == Some(limited)
        && !state.limited
    {
        state.limited = true;
        return (
            429,
            vec![("retry-after".into(), seconds.to_string())],
            json!({"message": "slow down"}).to_string(),
        );
    }
    if method == "GET" && path == "/user" {
        if behaviour.user_rate_limited {
            return (
                403,
                vec![("retry-after".into(), "0".into())],
                json!({"message": "You have exceeded a secondary rate limit"}).to_string(),
            );
        }
        if behaviour.user_sso {
            return (
                403,
                vec![],
                json!({"message": "Resource protected by organization SAML enforcement."})
                    .to_string(),
            );
        }
        return match behaviour.user {
            Some(login) => (
                200,
                vec![],
                json!({"login": login, "type": "User"}).to_string(),
            ),
            None => (
                403,
                vec![],
                json!({"message": "Resource not accessible by integration"}).to_string(),
            ),
        };
    }
    if method == "GET" && path.starts_with(list) {
        let page: usize = path
            .split("&page=")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        state.lists += 1;
        if let Some(bad) = behaviour.bad_link
            && state.lists < RELENT_AFTER
        {
            let next = match bad {
                BadLink::SamePage => format!("{base}{list}?per_page=100&page=2"),
                BadLink::Endless => format!("{base}{list}?per_page=100&page={}", page + 1),
                BadLink::Foreign => format!(
                    "{}/elsewhere/comments?page=2",
                    base.replace("127.0.0.1", "localhost")
                ),
            };
            let chunk: &[Comment] = if page == 1 { &comments } else { &[] };
            let link = format!("<{next}>; rel=\"next\"");
            return (200, vec![("link".into(), link)], as_json(chunk));
        }
        return match behaviour.page {
            None => (200, vec![], as_json(&comments)),
            Some(size) => {
                let start = (page - 1) * size;
                let chunk: Vec<_> = comments.iter().skip(start).take(size).cloned().collect();
                let mut headers = vec![];
                if start + size < comments.len() {
                    headers.push((
                        "link".into(),
                        format!(
                            "<{base}{list}?per_page={size}&page={}>; rel=\"next\"",
                            page + 1
                        ),
                    ));
                }
                (200, headers, as_json(&chunk))
            }
        };
    }
    let writing = (method == "POST" && path == list)
        || (method == "PATCH" && path.starts_with("/repos/owner/repo/issues/comments/"));
    if !writing {
        return (404, vec![], json!({"message": "Not Found"}).to_string());
    }
    let others = |path: &str| {
        let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap_or(0);
        comments
            .iter()
            .any(|c| c.id == id && Some(c.login.as_str()) != behaviour.app)
    };
    if behaviour.read_only
        || (behaviour.no_edits && method == "PATCH")
        || (behaviour.app.is_some() && method == "PATCH" && others(path))
    {
        return (
            403,
            vec![],
            json!({"message": "Resource not accessible by integration"}).to_string(),
        );
    }
    let text = serde_json::from_str::<Value>(body).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    if method == "POST" {
        let author = behaviour.app.or(behaviour.user).unwrap_or(ACTIONS_BOT);
        let comment = Comment::new(1000 + comments.len() as u64, text, author);
        comments.push(comment.clone());
        (201, vec![], comment.json().to_string())
    } else {
        let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
        let entry = comments
            .iter_mut()
            .find(|c| c.id == id)
            .expect("edit of an existing comment");
        entry.body = text;
        (200, vec![], entry.json().to_string())
    }
}

/// A project with a regression on branch `feature` (60 → 78 MiB), and the files of a
/// simulated Actions step.
struct Workflow {
    project: Project,
    base: String,
    dir: tempfile::TempDir,
}

impl Workflow {
    fn new(size: u32) -> Workflow {
        let project = Project::new(
            "version: 1\ndefaults: {repeat: 3, warmup: 0}\nthresholds:\n  wall_time: {min_change: 10s}\n  cpu_time: {min_change: 10s}\nbenchmarks:\n  - name: pipeline\n    command: \"{shapes} hold $(cat size.txt) 20\"\n",
        );
        project.write("size.txt", "60\n");
        project.git_init();
        let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
        git(project.dir(), &["checkout", "-q", "-b", "feature"]);
        project.write("size.txt", &format!("{size}\n"));
        project.commit("change the size");
        let dir = tempfile::tempdir().unwrap();
        let event = json!({"pull_request": {"number": 7, "base": {"sha": base}, "head": {"repo": {"fork": false}}}});
        std::fs::write(dir.path().join("event.json"), event.to_string()).unwrap();
        Workflow { project, base, dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    /// The environment GitHub Actions gives a step.
    fn env(&self, api: &FakeGithub) -> Vec<(String, String)> {
        [
            ("GITHUB_ACTIONS", "true".to_owned()),
            (
                "GITHUB_STEP_SUMMARY",
                self.file("summary.md").display().to_string(),
            ),
            (
                "GITHUB_OUTPUT",
                self.file("output.txt").display().to_string(),
            ),
            (
                "GITHUB_EVENT_PATH",
                self.file("event.json").display().to_string(),
            ),
            ("GITHUB_REPOSITORY", "owner/repo".to_owned()),
            ("GITHUB_API_URL", api.url.clone()),
            ("GITHUB_TOKEN", TOKEN.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// `memgate check --github-comment` as a step would run it.
    fn check(&self, api: &FakeGithub, extra: &[&str]) -> std::process::Output {
        let mut cmd = self
            .project
            .memgate()
            .args(["check", "-q", "--github-comment"])
            .args(extra)
            .command();
        cmd.envs(self.env(api));
        let out = cmd.output().unwrap();
        self.assert_no_token(&out);
        out
    }

    /// The token appears nowhere memgate wrote.
    #[track_caller]
    fn assert_no_token(&self, out: &std::process::Output) {
        let places = [
            ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
            ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
            ("summary", self.read("summary.md")),
            ("outputs", self.read("output.txt")),
            (
                "report.md",
                self.project.read_or_empty(".memgate/report.md"),
            ),
            (
                "report.json",
                self.project.read_or_empty(".memgate/report.json"),
            ),
        ];
        for (place, text) in places {
            assert!(!text.contains(TOKEN), "the token appears in {place}");
        }
    }
}

/// Runs the `run:` steps of the repository's `action.yml` as a runner would: each step's
/// `env:` evaluated from the inputs and earlier steps' outputs, `if:` conditions honoured
/// (a failed step skips the rest but for `always()` ones), `uses:` steps skipped.
fn run_action(
    workflow: &Workflow,
    api: &FakeGithub,
    inputs: &[(&str, &str)],
) -> Vec<(String, std::process::Output)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("action.yml")).unwrap()).unwrap();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let default = spec["default"].as_str().unwrap_or_default();
        let default = if default == "${{ github.token }}" {
            TOKEN
        } else {
            default
        };
        values.insert(format!("inputs.{name}"), default.to_owned());
    }
    for (k, v) in inputs {
        values.insert(format!("inputs.{k}"), (*v).to_owned());
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_memgate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut results = Vec::new();
    let mut failed = false;
    for step in action["runs"]["steps"].as_array().unwrap() {
        if step.get("uses").is_some() {
            continue;
        }
        let expr = |text: &str| -> String {
            let mut out = text.to_owned();
            for (name, value) in &values {
                out = out.replace(&format!("${{{{ {name} }}}}"), value);
            }
            // An output a step did not write is empty.
            while let Some(start) = out.find("${{ steps.") {
                let end = out[start..].find("}}").expect("a closed expression") + start + 2;
                out.replace_range(start..end, "");
            }
            assert!(!out.contains("${{"), "an expression left in {out}");
            out
        };
        // The forms action.yml uses: terms joined by `&&`, each `always()`,
        // `NAME == 'VALUE'` or `NAME != 'VALUE'`, NAME an input or a step's output (empty
        // when the step did not write it, or was skipped as `uses:` steps are here).
        let cond = step["if"].as_str().unwrap_or_default();
        let terms: Vec<&str> = cond.split(" && ").filter(|t| !t.is_empty()).collect();
        if failed && !terms.contains(&"always()") {
            continue;
        }
        let holds = |term: &str| {
            if term == "always()" {
                return true;
            }
            let (left, right, equal) = match term.split_once("!=") {
                Some((l, r)) => (l, r, false),
                None => {
                    let (l, r) = term.split_once("==").expect("a comparison");
                    (l, r, true)
                }
            };
            let left = left.trim();
            assert!(
                left.starts_with("inputs.") || left.starts_with("steps."),
                "{term}"
            );
            let value = values.get(left).map_or("", String::as_str);
            (value == right.trim().trim_matches('\'')) == equal
        };
        if !terms.iter().all(|t| holds(t)) {
            continue;
        }
        let outputs_file = workflow.file("step-output.txt");
        std::fs::write(&outputs_file, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(step["run"].as_str().unwrap())
            .current_dir(workflow.project.dir())
            .envs(workflow.env(api))
            .env("GITHUB_OUTPUT", &outputs_file)
            .env("GITHUB_ACTION_PATH", root)
            .env("RUNNER_TEMP", workflow.file("runner-temp"))
            .env("PATH", &path)
            .env_remove("GITHUB_TOKEN");
        if let Some(env) = step["env"].as_object() {
            for (k, v) in env {
                let value = v.as_str().unwrap();
                assert!(!value.contains("${{ github."), "{value}");
                cmd.env(k, expr(value));
            }
        }
        let script = step["run"].as_str().unwrap();
        assert!(
            !script.contains("${{"),
            "an expression inside run: {script}"
        );
        let out = cmd.output().unwrap();
        workflow.assert_no_token(&out);
        let written = std::fs::read_to_string(&outputs_file).unwrap();
        // Every step's outputs, as the workflow's own GITHUB_OUTPUT would gather them.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(workflow.file("output.txt"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, written.as_bytes()))
            .unwrap();
        if let Some(id) = step["id"].as_str() {
            for (k, v) in outputs(&written) {
                values.insert(format!("steps.{id}.outputs.{k}"), v);
            }
        }
        failed |= !out.status.success();
        results.push((step["name"].as_str().unwrap().to_owned(), out));
    }
    results
}

/// The steps of the repository's `action.yml`.
fn action_steps() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("action.yml")).unwrap()).unwrap();
    action["runs"]["steps"].as_array().unwrap().clone()
}

/// The report artifact: a third-party action pinned by commit, given only the files
/// memgate writes into its report directory, and after a failed check too, but never in
/// a comment job.
#[test]
fn the_action_uploads_only_the_html_report_with_a_pinned_action() {
    let steps = action_steps();
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("a step uploads the report");
    let pin = upload["uses"].as_str().unwrap().split_once('@').unwrap().1;
    assert!(
        pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
        "pinned by a commit, not a tag: {pin}"
    );
    let cond = upload["if"].as_str().unwrap();
    for term in [
        "always()",
        "inputs.report == ''",
        "steps.check.outputs.report-dir != ''",
    ] {
        assert!(cond.split(" && ").any(|t| t == term), "{term} in {cond}");
    }
    let with = &upload["with"];
    let paths: Vec<&str> = with["path"].as_str().unwrap().lines().collect();
    assert_eq!(
        paths,
        [
            "${{ steps.check.outputs.report-dir }}/index.html",
            "${{ steps.check.outputs.report-dir }}/*.svg",
            "${{ steps.check.outputs.report-dir }}/*.png",
        ]
    );
    assert_eq!(with["if-no-files-found"], "ignore");
    assert!(
        with["name"]
            .as_str()
            .unwrap()
            .starts_with("memgate-report-${{ github.job }}-")
    );
    // After the check, before the step that holds the token.
    let at = |name: &str| steps.iter().position(|s| s["name"] == name).unwrap();
    let upload_at = steps.iter().position(|s| s == upload).unwrap();
    assert!(at("Check") < upload_at && upload_at < at("Comment"));

    // The link in the job summary: the artifact's address reaches the script only
    // through the environment (run_action checks no `${{` is inside any `run:`).
    let link = &steps[upload_at + 1];
    assert_eq!(
        link["env"]["ARTIFACT_URL"],
        "${{ steps.upload.outputs.artifact-url }}"
    );
    assert_eq!(upload["id"], "upload");
    let cond = link["if"].as_str().unwrap();
    assert!(
        cond.starts_with("always() && inputs.report == ''"),
        "{cond}"
    );
    assert!(
        link["run"]
            .as_str()
            .unwrap()
            .contains(">> \"$GITHUB_STEP_SUMMARY\"")
    );
}

#[test]
fn the_action_gates_a_regression_and_comments_once() {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    let steps = run_action(&workflow, &api, &[]);
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Plan the install",
            "Install memgate",
            "Fetch baselines",
            "Check",
            "Comment"
        ]
    );
    let install = String::from_utf8_lossy(&steps[1].1.stdout).into_owned();
    assert!(
        install.starts_with("memgate 0.1.0 is installed"),
        "{install}"
    );
    let (_, check) = &steps[3];
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // The summary, the outputs, the report files.
    let summary = workflow.read("summary.md");
    assert!(
        summary.starts_with("### 🔴 memgate: regression"),
        "{summary}"
    );
    assert!(summary.contains("| pipeline | peak_memory |"), "{summary}");
    let out = outputs(&workflow.read("output.txt"));
    assert_eq!(out["verdict"], "regression");
    assert!(Path::new(&out["report"]).is_file() && out["report"].ends_with("report.md"));
    assert!(Path::new(&out["report-json"]).is_file());

    // Annotations on stderr, outside the stop-commands block.
    let stderr = String::from_utf8_lossy(&check.stderr).into_owned();
    assert!(
        stderr.contains(
            "::error title=memgate regression%3A pipeline peak_memory::peak_memory of pipeline got worse: "
        ),
        "{stderr}"
    );
    // The check step held no token; the comment step posted, with the installed binary.
    let (_, comment) = &steps[4];
    assert_eq!(comment.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&comment.stderr)
            .contains("memgate: commented on pull request #7 (comment 1002)"),
        "{}",
        String::from_utf8_lossy(&comment.stderr)
    );

    // The exact requests: who the token is, the comments, then create one.
    assert_eq!(
        api.methods(),
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "POST /repos/owner/repo/issues/7/comments"
        ]
    );
    for seen in api.seen() {
        assert_eq!(seen.headers["accept"], "application/vnd.github+json");
        assert_eq!(seen.headers["x-github-api-version"], "2022-11-28");
        assert_eq!(seen.headers["user-agent"], "memgate/0.1.0");
        assert_eq!(seen.headers["authorization"], format!("Bearer {TOKEN}"));
    }
    let posted: Value = serde_json::from_str(&api.seen()[2].body).unwrap();
    let body = posted["body"].as_str().unwrap();
    assert!(
        body.starts_with("<!-- memgate report, testbed auto-"),
        "{body}"
    );
    assert!(body.contains("### 🔴 memgate: regression"));

    // A second run edits the same comment.
    let again = run_action(&workflow, &api, &[]);
    assert_eq!(again[3].1.status.code(), Some(1));
    let methods = api.methods();
    assert_eq!(
        methods[3..],
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "PATCH /repos/owner/repo/issues/comments/1002"
        ]
    );
    assert_eq!(api.marked().len(), 1);
}

/// `install-only`: memgate on the PATH for the job's own steps, nothing else run.
#[test]
fn install_only_installs_and_runs_nothing_else() {
    let workflow = Workflow::new(60);
    let api = FakeGithub::start(Behaviour::default());
    let steps = run_action(&workflow, &api, &[("install-only", "true")]);
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Plan the install", "Install memgate"]);
    assert!(steps.iter().all(|(_, out)| out.status.success()));
    assert!(outputs(&workflow.read("output.txt")).contains_key("bin"));
    assert!(api.seen().is_empty());
    assert!(
        !workflow.project.path(".memgate").exists(),
        "no benchmark ran"
    );
}

#[test]
fn the_action_passes_inputs_through_the_environment_only() {
    let workflow = Workflow::new(60);
    let api = FakeGithub::start(Behaviour::default());
    // An input that would be code if pasted into a script is only text.
    let steps = run_action(
        &workflow,
        &api,
        &[("args", "--repeat 3 $(touch pwned)"), ("comment", "false")],
    );
    let (_, check) = &steps[3];
    assert_eq!(
        check.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(!workflow.project.path("pwned").exists());
    assert!(api.seen().is_empty());
}

#[test]
fn a_read_only_token_warns_and_keeps_the_verdict() {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        read_only: true,
        ..Default::default()
    });
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        live_commands(&out.stdout, &out.stderr).contains(&"::warning title=memgate::memgate did not comment on the pull request: writing the comment was refused (403 Forbidden): give the job `pull-requests: write`; the job summary has the report".to_owned()),
        "{stderr}"
    );
    assert!(workflow.read("summary.md").contains("memgate: regression"));
}

#[test]
fn a_rate_limit_is_waited_out() {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        rate_limit: Some((Call::Write, 1)),
        ..Default::default()
    });
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        api.methods(),
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "POST /repos/owner/repo/issues/7/comments",
            "POST /repos/owner/repo/issues/7/comments",
        ]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("GitHub asks to wait (429 Too Many Requests); retrying in 1 s")
    );
    assert_eq!(api.marked().len(), 1);
}

#[test]
fn the_earlier_comment_is_found_on_a_later_page() {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        page: Some(2),
        ..Default::default()
    });
    workflow.check(&api, &[]);
    // 3 comments of others + memgate's: pages of 2.
    let before = api.seen().len();
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(1));
    let methods: Vec<String> = api.methods()[before..].to_vec();
    assert_eq!(
        methods,
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "GET /repos/owner/repo/issues/7/comments?per_page=2&page=2",
            "PATCH /repos/owner/repo/issues/comments/1003",
        ]
    );
}

#[test]
fn an_oversized_report_is_cut_before_the_summary_limit() {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    // Earlier steps left the summary 200 bytes short of GitHub's 1 MiB.
    let limit = 1024 * 1024;
    std::fs::write(workflow.file("summary.md"), "x".repeat(limit - 200)).unwrap();
    workflow.check(&api, &[]);
    let summary = workflow.read("summary.md");
    assert!(summary.len() <= limit, "{}", summary.len());
    let tail = format!(
        "The whole of it is in {}.*\n",
        workflow.project.path(".memgate/report.md").display()
    );
    assert!(
        summary.ends_with(&tail),
        "{}",
        &summary[summary.len().saturating_sub(300)..]
    );
}

#[test]
fn a_benchmark_cannot_inject_workflow_commands() {
    let workflow = Workflow::new(60);
    workflow.project.write("memgate.yml", "version: 1\ndefaults: {repeat: 3, warmup: 0}\nbenchmarks:\n  - name: evil\n    command: \"echo '::error::injected by a benchmark' >&2; echo '::add-mask::x' >&2; exit 1\"\n");
    workflow.project.commit("evil benchmark");
    let api = FakeGithub::start(Behaviour::default());
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The benchmark's lines are shown (its stderr's tail follows the table)...
    assert!(
        stdout.contains("| ::error::injected by a benchmark"),
        "{stdout}"
    );
    // ... but no stream carries a command but memgate's own annotation.
    let live = live_commands(&out.stdout, &out.stderr);
    assert_eq!(live.len(), 1, "{stderr}");
    assert!(
        live[0].starts_with("::error title=memgate failure%3A evil"),
        "{stderr}"
    );
}

#[test]
fn outside_a_pull_request_there_is_no_comment() {
    let workflow = Workflow::new(60);
    std::fs::write(
        workflow.file("event.json"),
        json!({"ref": "refs/heads/main"}).to_string(),
    )
    .unwrap();
    let api = FakeGithub::start(Behaviour::default());
    let out = workflow.check(&api, &["--base", &workflow.base.clone()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pull request's workflow run"));
    assert!(api.seen().is_empty());
}

#[test]
fn a_persons_comment_with_the_marker_is_not_taken_over() {
    // Review finding: memgate edited the first comment holding its marker, whoever
    // wrote it.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    workflow.check(&api, &[]);
    let marker = api.marker();
    // Someone pastes the marker into a comment of their own, ahead of memgate's.
    api.comments
        .lock()
        .unwrap()
        .insert(0, Comment::new(50, format!("{marker}\nmine"), "someone"));
    let before = api.seen().len();
    workflow.check(&api, &[]);
    let methods = api.methods()[before..].to_vec();
    assert_eq!(
        methods,
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "PATCH /repos/owner/repo/issues/comments/1002"
        ]
    );
    assert_eq!(
        api.comments.lock().unwrap()[0].body,
        format!("{marker}\nmine")
    );
}

#[test]
fn metric_text_cannot_become_a_workflow_command() {
    // Review finding: an unknown key in a metrics line was quoted raw, newlines and all,
    // into the failure message, and --format junit went to stdout unwrapped.
    let workflow = Workflow::new(60);
    // A metrics line whose unknown key holds a newline and a workflow command.
    workflow.project.write(
        "emit.py",
        "import json, os\nopen(os.environ['MEMGATE_METRICS'], 'a').write(json.dumps({'metric': 'a', 'value': 1, 'x\\n::warning::INJECTED': 1}) + '\\n')\n",
    );
    workflow.project.write(
        "memgate.yml",
        "version: 1\ndefaults: {repeat: 3, warmup: 0}\nbenchmarks:\n  - name: m\n    command: [python3, emit.py]\n",
    );
    workflow.project.commit("metric with a newline in a key");
    let api = FakeGithub::start(Behaviour::default());
    let out = workflow.check(
        &api,
        &["--format", "junit", "--base", &workflow.base.clone()],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(text);
        let lines: Vec<&str> = text.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with("::stop-commands::"));
        let end = start.and_then(|s| {
            lines[s..]
                .iter()
                .position(|l| l.starts_with("::") && l.ends_with("::") && !l.contains(' '))
                .map(|e| s + e)
        });
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("::warning::INJECTED") {
                let inside = matches!((start, end), (Some(s), Some(e)) if s < i && i < e);
                assert!(inside, "{name} line {i} is a workflow command: {line}");
            }
        }
    }
    // The message arrives, made one line.
    let junit = String::from_utf8_lossy(&out.stdout);
    assert!(
        junit.contains("$MEMGATE_METRICS line 1: unknown field `x ::warning::INJECTED`"),
        "{junit}"
    );
}

#[test]
fn the_comment_step_posts_the_saved_report_and_refuses_a_forged_one() {
    // Issue 8: the token was in the environment of the step that ran the benchmarks. Now
    // `check` saves the report and `memgate comment`, in a step that runs no benchmark,
    // posts it.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    let mut check = workflow.project.memgate().args(["check", "-q"]).command();
    check.envs(workflow.env(&api)).env_remove("GITHUB_TOKEN");
    let out = check.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(api.seen().is_empty(), "check alone posts nothing");
    let report = workflow.project.path(".memgate/report.json");
    let comment = |path: &Path| {
        let mut cmd = workflow
            .project
            .memgate()
            .args([
                std::ffi::OsStr::new("comment"),
                "--report".as_ref(),
                path.as_os_str(),
            ])
            .command();
        cmd.envs(workflow.env(&api));
        let out = cmd.output().unwrap();
        workflow.assert_no_token(&out);
        out
    };
    let out = comment(&report);
    assert_eq!(out.status.code(), Some(0));
    assert_posted_a_regression(&api);

    // A report a benchmark rewrote: its text is refused, nothing is posted.
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    forged["comparisons"][0]["benchmark"] = json!("x\n<img src=x onerror=alert(1)>");
    let forged_path = workflow.file("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let before = api.seen().len();
    let out = comment(&forged_path);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(r#"benchmark name "x\n<img src=x onerror=alert(1)>" is not allowed"#),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Neither a FIFO (which would block a read forever) nor a directory is a report.
    let fifo = workflow.file("fifo.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = comment(&fifo);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a FIFO, not a regular file"));
    assert_eq!(api.seen().len(), before);
}

/// `memgate check` with a misbehaving `Link` header: the list requests it made, and its
/// stderr. It keeps its verdict and posts nothing.
fn check_with_bad_link(bad: BadLink) -> (Vec<String>, String) {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        bad_link: Some(bad),
        ..Default::default()
    });
    let out = workflow.check(&api, &[]);
    // memgate's warnings go to stderr.
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let methods = api.methods();
    assert!(
        methods
            .iter()
            .all(|m| m.starts_with("GET ") && !m.contains("elsewhere")),
        "a write, or a request off the API: {methods:?}"
    );
    assert!(api.marked().is_empty());
    assert!(
        stderr.contains("::warning title=memgate::memgate did not comment on the pull request: "),
        "{stderr}"
    );
    let lists = methods
        .into_iter()
        .filter(|m| m.contains("/issues/7/comments"))
        .collect();
    (lists, stderr)
}

#[test]
fn a_next_page_that_loops_back_stops_without_a_comment() {
    // Review finding: a `Link: rel="next"` pointing back at the same page made 786
    // requests in 30 s, and a server that relented would have had a second comment.
    let (lists, stdout) = check_with_bad_link(BadLink::SamePage);
    assert_eq!(
        lists,
        [
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "GET /repos/owner/repo/issues/7/comments?per_page=100&page=2",
        ]
    );
    assert!(stdout.contains("was fetched already"), "{stdout}");
}

#[test]
fn endless_pages_stop_at_the_bound_without_a_comment() {
    let (lists, stdout) = check_with_bad_link(BadLink::Endless);
    assert_eq!(lists.len(), 100, "{lists:?}");
    assert_eq!(
        lists[99],
        "GET /repos/owner/repo/issues/7/comments?per_page=100&page=100"
    );
    assert!(stdout.contains("more than 100 pages"), "{stdout}");
}

#[test]
fn a_next_page_off_the_api_is_not_followed_and_nothing_is_posted() {
    // The token goes with every request: it must never reach another origin, and a
    // list memgate could not finish must not end in a second comment.
    let (lists, stdout) = check_with_bad_link(BadLink::Foreign);
    assert_eq!(
        lists,
        ["GET /repos/owner/repo/issues/7/comments?per_page=100"]
    );
    assert!(stdout.contains("is not on the API"), "{stdout}");
}

/// Starts `memgate check --github-comment` against a fake that keeps it waiting at the
/// first request of kind `call` (`behaviour` says how), sends `signal` once that request
/// has arrived, and checks that memgate stops at once: exit 130, nothing posted.
fn a_signal_ends_the_wait(call: Call, behaviour: Behaviour, signal: i32) {
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(behaviour);
    let mut memgate = workflow
        .project
        .memgate()
        .args(["check", "-q", "--github-comment"]);
    for (key, value) in workflow.env(&api) {
        memgate = memgate.env(&key, &value);
    }
    let mut running = memgate.spawn();
    // Generous caps: they only keep a broken memgate from hanging the test.
    let arrived = poll(Duration::from_secs(120), || {
        api.methods().iter().any(|m| m == call.first())
            || running.child.try_wait().unwrap().is_some()
    });
    assert!(
        arrived && running.child.try_wait().unwrap().is_none(),
        "memgate ended or never sent {}: {:?}",
        call.first(),
        api.methods()
    );
    // SAFETY: plain kill of our own child, not reaped (try_wait said it runs).
    unsafe { libc::kill(running.child.id() as i32, signal) };
    let (out, ended) = running.finish(Duration::from_secs(45));
    let out = out.0;
    workflow.assert_no_token(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        ended,
        "memgate was still waiting 45 s after the signal: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "stdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("memgate: interrupted"), "{stderr}");
    let writes = api
        .methods()
        .iter()
        .filter(|m| !m.starts_with("GET "))
        .count();
    assert_eq!(writes, usize::from(call == Call::Write));
    assert!(api.marked().is_empty());
}

/// Polls `done` every 20 ms until it holds (true) or `cap` has passed (false).
fn poll(cap: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + cap;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_ends_the_wait_for_a_rate_limited_comment() {
    // Review finding: SIGTERM during the comment's 60 s rate-limit wait was ignored, and
    // memgate exited 0 after the wait instead of 130.
    let behaviour = Behaviour {
        rate_limit: Some((Call::Write, 60)),
        ..Default::default()
    };
    a_signal_ends_the_wait(Call::Write, behaviour, libc::SIGTERM);
}

#[test]
fn ctrl_c_ends_the_wait_for_a_rate_limited_list() {
    let behaviour = Behaviour {
        rate_limit: Some((Call::List, 60)),
        ..Default::default()
    };
    a_signal_ends_the_wait(Call::List, behaviour, libc::SIGINT);
}

#[test]
fn sigterm_ends_the_wait_for_an_answer() {
    // A server that takes the request and never answers holds memgate in the request
    // itself, not in a rate-limit wait.
    let behaviour = Behaviour {
        stall: Some(Call::List),
        ..Default::default()
    };
    a_signal_ends_the_wait(Call::List, behaviour, libc::SIGTERM);
}

/// Three checks with a token that writes as `user` (`None`: the Actions token). Between
/// the first and the second, memgate's comment becomes `other`'s, marker and all: the
/// second check must leave it alone and post anew, the third edit that new comment.
fn only_the_tokens_own_comment_is_edited(user: Option<&'static str>, other: &str) {
    let me = user.unwrap_or(ACTIONS_BOT).to_owned();
    let other = other.to_owned();
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        user,
        ..Default::default()
    });
    let run = |expected: &[String]| {
        let before = api.seen().len();
        let out = workflow.check(&api, &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(api.methods()[before..], *expected);
    };
    let list = "GET /repos/owner/repo/issues/7/comments?per_page=100".to_owned();
    let create = "POST /repos/owner/repo/issues/7/comments".to_owned();
    let whoami = "GET /user".to_owned();
    run(&[whoami.clone(), list.clone(), create.clone()]);
    assert_eq!(api.marked(), [(1002, me.clone())]);

    let theirs = {
        let mut comments = api.comments.lock().unwrap();
        let first = comments.iter_mut().find(|c| c.id == 1002).unwrap();
        first.login = other.clone();
        first.body.clone()
    };
    let unchanged = || {
        let comments = api.comments.lock().unwrap();
        assert_eq!(comments.iter().find(|c| c.id == 1002).unwrap().body, theirs);
    };
    let expected_marked = [(1002, other.clone()), (1003, me.clone())];
    let before = api.seen().len();
    workflow.check(&api, &[]);
    assert_eq!(
        api.marked(),
        expected_marked,
        "{:?}",
        &api.methods()[before..]
    );
    unchanged();
    assert_eq!(
        api.methods()[before..],
        [whoami.clone(), list.clone(), create]
    );

    // The other's comment comes first in the list; memgate's own is still the one edited.
    run(&[
        whoami,
        list,
        "PATCH /repos/owner/repo/issues/comments/1003".to_owned(),
    ]);
    assert_eq!(api.marked(), expected_marked);
    unchanged();
}

#[test]
fn a_personal_tokens_comment_is_edited_and_no_one_elses() {
    // Review finding: with a personal access token (author type `User`) memgate posted a
    // new comment on every push.
    only_the_tokens_own_comment_is_edited(Some("alice"), "bob");
}

#[test]
fn the_actions_tokens_comment_is_edited_and_not_another_apps() {
    // Review finding: any bot's comment holding the marker was edited.
    only_the_tokens_own_comment_is_edited(None, "other-app[bot]");
}

#[test]
fn a_rate_limit_on_who_the_token_is_is_not_taken_for_the_actions_token() {
    // A 403 that is a rate limit, not a refusal: were the token taken for
    // github-actions[bot], a personal token's comment would not be found and a second
    // one posted.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        user_rate_limited: true,
        ..Default::default()
    });
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(api.methods(), ["GET /user"; 4]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("::warning title=memgate::memgate did not comment on the pull request: ")
            && stderr.contains("still rate-limited (403 Forbidden) after 4 attempts"),
        "{stderr}"
    );
}

#[test]
fn a_comment_job_of_its_own_posts_what_the_gate_job_saved() {
    // Found in review: in one job, a benchmark can reach the steps after it (it runs as
    // the same user). The safe shape is two jobs: the gate, with a read-only token and
    // no comment, and a comment job that runs no benchmark.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    let gate = run_action(&workflow, &api, &[("comment", "false")]);
    let names: Vec<&str> = gate.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Plan the install",
            "Install memgate",
            "Fetch baselines",
            "Check"
        ]
    );
    assert_eq!(gate[3].1.status.code(), Some(1));
    assert!(api.seen().is_empty());
    let report = outputs(&workflow.read("output.txt"))["report-json"].clone();
    let saved = workflow.file("artifact-report.json");
    std::fs::copy(&report, &saved).unwrap();
    // The comment job installs memgate into its own folder: here the test's build,
    // put there in place of a `cargo install` of minutes.
    let fresh = workflow.file(concat!(
        "runner-temp/memgate-",
        env!("CARGO_PKG_VERSION"),
        "/bin"
    ));
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_memgate"), fresh.join("memgate")).unwrap();
    let job = run_action(&workflow, &api, &[("report", saved.to_str().unwrap())]);
    let install = String::from_utf8_lossy(&job[1].1.stdout).into_owned();
    assert!(install.contains("for this job alone"), "{install}");
    let names: Vec<&str> = job.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Plan the install",
            "Install memgate",
            "Comment on the saved report"
        ]
    );
    assert_eq!(job[2].1.status.code(), Some(0));
    assert_posted_a_regression(&api);
}

#[test]
fn a_refused_user_lookup_that_names_no_integration_posts_nothing() {
    // Review finding: a personal token refused GET /user for single sign-on was taken
    // for the Actions token, and a second comment was posted.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour {
        user_sso: true,
        ..Default::default()
    });
    let out = workflow.check(&api, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(api.methods(), ["GET /user"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "refused (403: Resource protected by organization SAML enforcement.), so whose comment to edit is unknown; nothing posted"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_comment_that_may_not_be_edited_is_followed_by_a_new_one() {
    // Review finding: the Actions bot's earlier comment, found with a token that may not
    // edit it, left the pull request without a comment and a misleading warning.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    workflow.check(&api, &[]);
    let api_no_edits = FakeGithub::start(Behaviour {
        no_edits: true,
        ..Default::default()
    });
    // The same comments, on a server that refuses edits.
    *api_no_edits.comments.lock().unwrap() = api.comments.lock().unwrap().clone();
    let out = workflow.check(&api_no_edits, &[]);
    assert_eq!(out.status.code(), Some(1));
    let methods = api_no_edits.methods();
    assert_eq!(
        methods[1..],
        [
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "PATCH /repos/owner/repo/issues/comments/1002",
            "POST /repos/owner/repo/issues/7/comments"
        ]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("its earlier comment could not be edited (403 Forbidden): posting a new one")
    );
}

#[test]
fn check_json_on_stdout_stays_one_document_under_actions() {
    // Issue 8: `check --format json` to stdout under Actions was followed by annotation
    // lines, so stdout was not valid JSON.
    let workflow = Workflow::new(78);
    let api = FakeGithub::start(Behaviour::default());
    let out = workflow.check(&api, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(report["verdict"], "regression");
    // The annotations are on stderr, after commands are resumed.
    let live = live_commands(&out.stdout, &out.stderr);
    assert!(
        live.iter()
            .any(|l| l.starts_with("::error title=memgate regression%3A pipeline peak_memory::")),
        "{live:?}"
    );
}

#[test]
fn an_apps_token_is_told_how_to_edit_its_own_comment() {
    // Found in review: a GitHub App's token was taken for github-actions[bot] (both may
    // not read a user), its edit of the bot's comment was refused, and a new comment was
    // posted on every run. Now memgate says which author to name, and with it edits.
    let workflow = Workflow::new(78);
    let actions = FakeGithub::start(Behaviour::default());
    workflow.check(&actions, &[]);
    let app = FakeGithub::start(Behaviour {
        app: Some("my-app[bot]"),
        ..Default::default()
    });
    *app.comments.lock().unwrap() = actions.comments.lock().unwrap().clone();
    let out = workflow.check(&app, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("this token writes as my-app[bot], not github-actions[bot]: set MEMGATE_COMMENT_AUTHOR=my-app[bot] for the next run"),
        "{stderr}"
    );
    let before = app.seen().len();
    let mut cmd = workflow
        .project
        .memgate()
        .args(["check", "-q", "--github-comment"])
        .command();
    cmd.envs(workflow.env(&app))
        .env("MEMGATE_COMMENT_AUTHOR", "my-app[bot]");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let methods = app.methods()[before..].to_vec();
    assert_eq!(
        methods[0],
        "GET /repos/owner/repo/issues/7/comments?per_page=100"
    );
    assert!(
        methods[1].starts_with("PATCH /repos/owner/repo/issues/comments/"),
        "{methods:?}"
    );
    assert_eq!(methods.len(), 2, "{methods:?}");
}

/// The fake received exactly one new comment, after looking for memgate's earlier one,
/// and it reports a regression.
#[track_caller]
fn assert_posted_a_regression(api: &FakeGithub) {
    assert_eq!(
        api.methods(),
        [
            "GET /user",
            "GET /repos/owner/repo/issues/7/comments?per_page=100",
            "POST /repos/owner/repo/issues/7/comments"
        ]
    );
    let posted: Value = serde_json::from_str(&api.seen()[2].body).unwrap();
    let body = posted["body"].as_str().unwrap();
    assert!(body.contains("### 🔴 memgate: regression"), "{body}");
}
