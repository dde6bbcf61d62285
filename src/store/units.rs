//! The unit directory: schools, kindergartens, enterprises — the units a round covers.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::clock::to_micros;
use crate::store::db::{exec, row, rows};

#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Unit {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub sector: String,
    pub kind: String,
    pub roster_size: i64,
    /// The roster by name, one name a line (empty: known only by its size).
    pub roster: String,
}

impl Unit {
    pub fn roster_names(&self) -> Vec<&str> {
        self.roster.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
    }

    pub fn name(&self, lang: &str) -> &str {
        if lang.starts_with("en") { &self.name_en } else { &self.name_zh }
    }
}

pub async fn upsert<C: ConnectionTrait>(c: &C, u: &Unit, now: time::OffsetDateTime) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO units (id, name_zh, name_en, sector, kind, roster_size, roster, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET name_zh = $2, name_en = $3, sector = $4, kind = $5, roster_size = $6, roster = $7",
        vec![
            u.id.clone().into(),
            u.name_zh.clone().into(),
            u.name_en.clone().into(),
            u.sector.clone().into(),
            u.kind.clone().into(),
            u.roster_size.into(),
            u.roster.clone().into(),
            to_micros(now).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<Unit>, DbErr> {
    rows(
        c,
        "SELECT id, name_zh, name_en, sector, kind, roster_size, roster FROM units ORDER BY sector, id LIMIT 5000",
        vec![],
    )
    .await
}

pub async fn find<C: ConnectionTrait>(c: &C, id: &str) -> Result<Option<Unit>, DbErr> {
    row(c, "SELECT id, name_zh, name_en, sector, kind, roster_size, roster FROM units WHERE id = $1", vec![id.into()])
        .await
}

/// An instance's data with the fields that start from a unit's record filled from it (the
/// assembly's roster from the unit's register), where they were not given. A unit not on record,
/// or without the value, leaves the field to be given.
pub async fn record_defaults<C: ConnectionTrait>(
    c: &C,
    def: &crate::definition::Definition,
    mut data: crate::engine::Data,
) -> Result<crate::engine::Data, DbErr> {
    use crate::definition::RecordValue;
    use serde_json::Value;
    // Each unit read once, however many fields start from it (an assembly's size and names).
    let mut read: std::collections::HashMap<String, Option<Unit>> = std::collections::HashMap::new();
    for field in &def.fields {
        let Some(default) = &field.default else { continue };
        if data.get(&field.id).is_some_and(|v| !v.is_null()) {
            continue;
        }
        let Some(id) = data.get(&default.record).and_then(Value::as_str).map(str::to_owned) else { continue };
        if !read.contains_key(&id) {
            let unit = find(c, &id).await?;
            read.insert(id.clone(), unit);
        }
        let Some(Some(unit)) = read.get(&id) else { continue };
        let value = match default.take {
            RecordValue::RosterSize => (unit.roster_size > 0).then(|| Value::from(unit.roster_size)),
            RecordValue::Roster => {
                let names = unit.roster_names();
                (!names.is_empty()).then(|| Value::Array(names.into_iter().map(Value::from).collect()))
            }
        };
        if let Some(value) = value {
            data.insert(field.id.clone(), value);
        }
    }
    Ok(data)
}
