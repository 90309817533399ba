//! The GitHub Actions workflows `memgate init --github` writes: memgate's own examples
//! (`examples/github/`), compiled in, with the default branch put in where the baselines
//! workflow names `main`.

use super::render::yaml_string;

/// Where GitHub reads workflows, relative to the repository root.
pub const DIR: &str = ".github/workflows";

/// A workflow: its file name in [`DIR`], what it does, and its text.
pub struct Workflow {
    pub file: &'static str,
    pub what: &'static str,
    text: &'static str,
}

pub const WORKFLOWS: [Workflow; 2] = [
    Workflow {
        file: "memgate-pull-request.yml",
        what: "gates each pull request against its base",
        text: include_str!("../../examples/github/pull-request.yml"),
    },
    Workflow {
        file: "memgate-baselines.yml",
        what: "saves the default branch's results on each push",
        text: include_str!("../../examples/github/baselines.yml"),
    },
];

impl Workflow {
    /// The text to write, for a repository whose default branch is `branch`.
    pub fn text(&self, branch: &str) -> String {
        if branch == "main" {
            return self.text.to_owned();
        }
        self.text.replace(
            "branches: [main]",
            &format!("branches: [{}]", yaml_string(branch)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branch_is_put_in_and_the_yaml_stays_valid() {
        let baselines = &WORKFLOWS[1];
        assert!(baselines.text("main").contains("branches: [main]"));
        for branch in ["master", "release/1.x", "a\"b: [c]"] {
            let text = baselines.text(branch);
            let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let branches = &yaml["on"]["push"]["branches"];
            assert_eq!(branches[0].as_str(), Some(branch), "{text}");
        }
        // The pull-request workflow names no branch.
        assert_eq!(WORKFLOWS[0].text("master"), WORKFLOWS[0].text("main"));
    }
}
