//! "My work" as a page: what [`crate::work`] finds waiting for the signed-in person, worded.

use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::state::AppState;
use crate::web::view::{Chrome, deadline_text, page};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub struct WorkItem {
    pub id: i64,
    pub title: String,
    pub process: String,
    pub state: String,
    pub actions: String,
    pub deadline: Option<String>,
    /// The deadline rests on a calendar that is a guess.
    pub provisional: Option<String>,
    pub urgent: bool,
    pub escalated: bool,
    /// "For 王伟 (away until …)": work of someone the person stands in for.
    pub for_whom: Option<String>,
}

/// An instance a comment mentioned the person in, until they open it.
pub struct MentionItem {
    pub id: i64,
    pub title: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    chrome: Chrome,
    items: Vec<WorkItem>,
    mentions: Vec<MentionItem>,
}

pub async fn my_work(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (tr, lang, now) = (signed.tr, signed.tr.code(), state.now());
    let units = state.directory().await?;
    // The person's own work, then that of each absent person they stand in for, marked.
    let mut waiting = Vec::new();
    for actor in signed.actors() {
        let for_whom = actor.substituting.as_ref().map(|s| {
            let name = units.people.get(&s.absent).cloned().unwrap_or_else(|| s.absent.clone());
            tr.f("work.for_absent", &[("name", name)])
        });
        for w in crate::work::waiting_for(&state.rt, &actor).await? {
            waiting.push((w, for_whom.clone()));
        }
    }
    crate::work::sort(&mut waiting, |(w, _)| w);
    // An assembly is titled with its round: each round read once for all its units' rows.
    let mut parents = crate::web::process::ParentTitles::default();
    let mut parent_titles = Vec::with_capacity(waiting.len());
    for (w, _) in &waiting {
        parent_titles.push(parents.of(&state, &w.definition, w.row.parent_id, lang, &units).await?.map(str::to_owned));
    }
    let items = waiting
        .into_iter()
        .zip(parent_titles)
        .map(|((w, for_whom), parent)| {
            let def = &w.definition;
            let (deadline, urgent) = w.due.map_or((None, false), |due| {
                let (text, urgent) = deadline_text(&tr, due, now);
                (Some(text), urgent)
            });
            let actions: Vec<String> = w.allowed.iter().map(|e| def.event_label(e, lang).to_owned()).collect();
            WorkItem {
                id: w.row.id,
                title: def.title_beside_parent(
                    def.title_named(&w.row.data, lang, crate::web::process::namer(&units, lang)),
                    parent.as_deref(),
                ),
                process: def.label.get(lang).to_owned(),
                state: def.state(&w.row.state).map_or_else(|| w.row.state.clone(), |s| s.label.get(lang).to_owned()),
                actions: actions.join(tr.t("punct.list")),
                deadline,
                provisional: crate::web::view::provisional_note(&tr, &w.due_provisional),
                urgent: urgent || w.escalated,
                escalated: w.escalated,
                for_whom,
            }
        })
        .collect();
    let mut mentions = Vec::new();
    for (m, inst) in crate::web::comments::mentions_of(&state, &signed.actor(), &signed.session.user.username).await? {
        let title = inst.definition.title_named(&inst.row.data, lang, crate::web::process::namer(&units, lang));
        let who = units.people.get(&m.mentioned_by).cloned().unwrap_or(m.mentioned_by);
        let when = crate::web::view::fmt_time(crate::clock::from_micros(m.at), state.rt.offset());
        let by = tr.f("work.mentioned_by", &[("who", who), ("when", when)]);
        mentions.push(MentionItem { id: m.instance_id, title, by });
    }
    page(StatusCode::OK, &WorkPage { chrome: Chrome::signed(&signed, tr.t("work.title")), items, mentions })
}
