//! Definition versions: each distinct content of a definition file is stored once, numbered; an
//! instance points at the version it started on and runs on it to the end.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use sea_orm::{DatabaseConnection, DbErr, FromQueryResult};
use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::clock::to_micros;
use crate::definition::{Definition, DefinitionSet, parse_stored};
use crate::store::db::{exec, row};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("stored definition version {id} no longer parses: {problems}")]
    Stored { id: i64, problems: String },
    #[error("no stored definition version {0}")]
    Missing(i64),
}

/// The definitions in force, their version rows, and the older versions instances still run on.
pub struct Registry {
    pub set: DefinitionSet,
    /// process id → (version row id, version number) of the current files.
    current: BTreeMap<String, (i64, i64)>,
    by_row: RwLock<HashMap<i64, Arc<Definition>>>,
}

#[derive(FromQueryResult)]
struct VersionRow {
    id: i64,
    version: i64,
}

#[derive(FromQueryResult)]
struct SourceRow {
    process: String,
    version: i64,
    source: String,
}

impl Registry {
    /// Stores any definition whose content is new as the next version of its process.
    pub async fn sync(
        db: &DatabaseConnection,
        set: DefinitionSet,
        now: time::OffsetDateTime,
    ) -> Result<Self, RegistryError> {
        let mut current = BTreeMap::new();
        let mut by_row = HashMap::new();
        for (process, source) in &set.sources {
            let sha = hex(&Sha256::digest(source.as_bytes()));
            let find = "SELECT id, version FROM definitions WHERE process = $1 AND sha256 = $2";
            let mut found: Option<VersionRow> = row(db, find, vec![process.clone().into(), sha.clone().into()]).await?;
            if found.is_none() {
                // Another server may insert the same version at the same moment: the unique key
                // makes one insert win, and both then read the same row.
                exec(
                    db,
                    "INSERT INTO definitions (process, version, sha256, source, loaded_at)
                     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM definitions WHERE process = $1
                     ON CONFLICT DO NOTHING",
                    vec![process.clone().into(), sha.clone().into(), source.clone().into(), to_micros(now).into()],
                )
                .await?;
                found = row(db, find, vec![process.clone().into(), sha.into()]).await?;
            }
            let VersionRow { id, version } =
                found.ok_or_else(|| DbErr::RecordNotFound(format!("definition {process}")))?;
            current.insert(process.clone(), (id, version));
            if let Some(def) = set.definitions.get(process) {
                by_row.insert(id, def.clone());
            }
        }
        Ok(Self { set, current, by_row: RwLock::new(by_row) })
    }

    /// The version row new instances of `process` start on.
    pub fn current(&self, process: &str) -> Option<(i64, &Arc<Definition>)> {
        let (row, _) = self.current.get(process)?;
        Some((*row, self.set.definitions.get(process)?))
    }

    pub fn current_version(&self, process: &str) -> Option<i64> {
        self.current.get(process).map(|(_, v)| *v)
    }

    /// The version number of a stored version row.
    pub async fn version_of(&self, db: &DatabaseConnection, id: i64) -> Result<i64, RegistryError> {
        if let Some((_, version)) = self.current.values().find(|(row, _)| *row == id) {
            return Ok(*version);
        }
        #[derive(FromQueryResult)]
        struct Version {
            version: i64,
        }
        let found: Option<Version> = row(db, "SELECT version FROM definitions WHERE id = $1", vec![id.into()]).await?;
        found.map(|v| v.version).ok_or(RegistryError::Missing(id))
    }

    /// The definition of a stored version, parsed once and kept.
    pub async fn by_row(&self, db: &DatabaseConnection, id: i64) -> Result<Arc<Definition>, RegistryError> {
        if let Some(def) = self.by_row.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(def.clone());
        }
        let SourceRow { process, version, source } =
            row(db, "SELECT process, version, source FROM definitions WHERE id = $1", vec![id.into()])
                .await?
                .ok_or(RegistryError::Missing(id))?;
        let def = parse_stored(&format!("{process} version {version}"), &source)
            .map_err(|p| RegistryError::Stored { id, problems: p.to_string() })?;
        let def = Arc::new(def);
        self.by_row.write().unwrap_or_else(|e| e.into_inner()).insert(id, def.clone());
        Ok(def)
    }
}
