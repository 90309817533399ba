//! What every command needs to know about where it runs: the repository, the store and
//! the testbed. Main type: [`Context`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::measure::probe::ProbeKind;
use crate::results::Testbed;
use crate::store::{DirStore, NotesStore, Store};

pub struct Context {
    pub cwd: PathBuf,
    pub repo: Option<Repo>,
    /// `--store DIR`, if given.
    pub store_dir: Option<PathBuf>,
    /// `--testbed`, else `MEMGATE_TESTBED`.
    pub testbed_name: Option<String>,
}

impl Context {
    pub fn new(cwd: PathBuf, store_dir: Option<&Path>, testbed: Option<&str>) -> Result<Context> {
        let from_env = std::env::var("MEMGATE_TESTBED")
            .ok()
            .filter(|s| !s.is_empty());
        let testbed_name = testbed.map(str::to_owned).or(from_env);
        if let Some(name) = &testbed_name {
            crate::names::check_name("testbed name", name).map_err(Error::Usage)?;
        }
        Ok(Context {
            repo: Repo::discover(&cwd),
            store_dir: store_dir.map(|d| cwd.join(d)),
            cwd,
            testbed_name,
        })
    }

    /// The store: `--store DIR`, else git notes; `None` outside git without `--store`.
    pub fn store(&self) -> Result<Option<Box<dyn Store>>> {
        if let Some(dir) = &self.store_dir {
            return Ok(Some(Box::new(DirStore::new(dir.clone()))));
        }
        match &self.repo {
            Some(repo) => Ok(Some(Box::new(NotesStore::open(repo)?))),
            None => Ok(None),
        }
    }

    /// The store, or an error saying how to get one.
    pub fn require_store(&self) -> Result<Box<dyn Store>> {
        self.store()?.ok_or_else(|| {
            Error::Usage(format!(
                "{} is not in a git repository: results live in git notes, or pass --store DIR",
                self.cwd.display()
            ))
        })
    }

    /// The repository, or an error naming what needs one.
    pub fn require_repo(&self, what: &str) -> Result<&Repo> {
        self.repo.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "{what} needs a git repository, and {} is not in one",
                self.cwd.display()
            ))
        })
    }

    /// The revision `rev` names: a commit in git (full id); with `--store`, a name git does
    /// not know is a label, as outside git.
    pub fn revision(&self, rev: &str) -> Result<String> {
        match &self.repo {
            Some(repo) => match repo.resolve(rev) {
                Err(_) if self.store_dir.is_some() => Ok(rev.to_owned()),
                resolved => resolved,
            },
            None => Ok(rev.to_owned()),
        }
    }

    /// The plan of the config (`--config`, else found from the current directory), cut
    /// to the named benchmarks, with the run counts overridden where given.
    pub fn plan(
        &self,
        config: Option<&Path>,
        benchmarks: &[String],
        repeat: Option<u32>,
        warmup: Option<u32>,
    ) -> Result<crate::config::Plan> {
        let mut plan = crate::config::load(&crate::config::find(config, &self.cwd)?)?;
        plan.select(benchmarks)?;
        plan.override_counts(repeat, warmup);
        Ok(plan)
    }

    /// The plan of the config if there is one, for the commands that only read stored
    /// results (they use the built-in thresholds without one); a config named with
    /// `--config` must be there.
    pub fn optional_plan(&self, config: Option<&Path>) -> Result<Option<crate::config::Plan>> {
        match crate::config::find(config, &self.cwd) {
            Ok(path) => Ok(Some(crate::config::load(&path)?)),
            Err(_) if config.is_none() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This machine's testbed; `config_name` is the config's `testbed:`, if known.
    pub fn testbed(&self, probe: ProbeKind, config_name: Option<&str>) -> Testbed {
        let name = self.testbed_name.as_deref().or(config_name);
        crate::testbed::current(probe, name)
    }
}
