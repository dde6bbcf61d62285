//! The talent pool page: graduates searchable by trade, cohort field and an assessed competence's level.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::sector::track;
use crate::training::pool::{self, Search};
use crate::web::errors::WebError;
use crate::web::extract::PoolSearcher;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// The longest search word: longer than any trade or field.
const SEARCH_MAX: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct TalentQuery {
    #[serde(default)]
    trade: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    competence: String,
    #[serde(default)]
    level: String,
}

pub struct GraduateLine {
    pub track: i64,
    /// Whether the graduate's page opens for the reader: a link is shown only where it does.
    pub opens: bool,
    pub name: String,
    pub employer: String,
    pub trade: String,
    pub mentor: String,
    pub levels: String,
}

#[derive(Template)]
#[template(path = "talent.html")]
struct TalentPage {
    chrome: Chrome,
    trade: String,
    field: String,
    competences: Vec<(String, String, bool)>,
    level: String,
    graduates: Vec<GraduateLine>,
}

impl TalentQuery {
    /// The search, parsed: search words are short text, so a NUL or a megabyte is a bad
    /// request, not a search.
    fn search(&self, options: &[crate::definition::ChoiceOption]) -> Result<Search, WebError> {
        let word = |s: &str| -> Result<Option<String>, WebError> {
            let s = crate::text::line(s, SEARCH_MAX).map_err(|p| WebError::BadRequest(format!("a search {p}")))?;
            Ok(Some(s.to_owned()).filter(|s| !s.is_empty()))
        };
        let level = self.level.trim().parse::<i64>().ok();
        Ok(Search {
            trade: word(&self.trade)?,
            field: word(&self.field)?,
            competence: options.iter().find(|o| o.id == self.competence).map(|o| (o.id.clone(), level.unwrap_or(1))),
        })
    }
}

/// A graduate as the pool lists them: their mentor by name, a link where the page opens.
fn graduate_line(reader: &Reader<'_>, g: pool::Graduate) -> GraduateLine {
    let Reader { tr, options, def, actor, people } = reader;
    let lang = tr.code();
    GraduateLine {
        opens: actor.may_view(def, &g.data),
        levels: options
            .iter()
            .filter_map(|o| g.levels.get(&o.id).map(|l| format!("{} {l}", o.label.get(lang))))
            .collect::<Vec<_>>()
            .join(tr.t("punct.list")),
        track: g.track,
        name: g.name,
        employer: g.employer,
        trade: g.trade,
        mentor: people.get(&g.mentor).cloned().unwrap_or(g.mentor),
    }
}

/// Who reads the pool, and what naming its rows needs.
struct Reader<'a> {
    tr: &'a crate::web::i18n::Tr,
    options: &'a [crate::definition::ChoiceOption],
    def: &'a crate::definition::Definition,
    actor: crate::engine::Actor,
    people: &'a std::collections::BTreeMap<String, String>,
}

pub async fn talent_page(
    State(state): State<AppState>,
    PoolSearcher(signed): PoolSearcher,
    Query(q): Query<TalentQuery>,
) -> Result<Response, WebError> {
    let def = state.rt.definitions().get(track::PROCESS).cloned().ok_or(WebError::NotFound)?;
    let lang = signed.tr.code();
    let options = def.choice_options(track::COMPETENCE);
    let search = q.search(options)?;
    let directory = state.directory().await?;
    let reader = Reader { tr: &signed.tr, options, def: &def, actor: signed.actor(), people: &directory.people };
    let graduates = pool::search(state.db(), &search).await?.into_iter().map(|g| graduate_line(&reader, g)).collect();
    let competences =
        options.iter().map(|o| (o.id.clone(), o.label.get(lang).to_owned(), o.id == q.competence)).collect();
    let chrome = Chrome::signed(&signed, signed.tr.t("talent.title"));
    page(StatusCode::OK, &TalentPage { chrome, trade: q.trade, field: q.field, competences, level: q.level, graduates })
}
