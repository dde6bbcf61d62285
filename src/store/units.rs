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
}

impl Unit {
    pub fn name(&self, lang: &str) -> &str {
        if lang.starts_with("en") { &self.name_en } else { &self.name_zh }
    }
}

pub async fn upsert<C: ConnectionTrait>(c: &C, u: &Unit, now: time::OffsetDateTime) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO units (id, name_zh, name_en, sector, kind, roster_size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name_zh = $2, name_en = $3, sector = $4, kind = $5, roster_size = $6",
        vec![
            u.id.clone().into(),
            u.name_zh.clone().into(),
            u.name_en.clone().into(),
            u.sector.clone().into(),
            u.kind.clone().into(),
            u.roster_size.into(),
            to_micros(now).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<Unit>, DbErr> {
    rows(c, "SELECT id, name_zh, name_en, sector, kind, roster_size FROM units ORDER BY sector, id LIMIT 5000", vec![])
        .await
}

pub async fn find<C: ConnectionTrait>(c: &C, id: &str) -> Result<Option<Unit>, DbErr> {
    row(c, "SELECT id, name_zh, name_en, sector, kind, roster_size FROM units WHERE id = $1", vec![id.into()]).await
}
