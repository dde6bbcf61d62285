//! "My trainees": a mentor's own trainees, each with what is due now.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::sector::track;
use crate::training::mentoring::{self, Due};
use crate::web::errors::WebError;
use crate::web::extract::Mentor;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

pub struct TraineeLine {
    pub track: i64,
    pub name: String,
    pub state: String,
    pub due: Vec<String>,
}

#[derive(Template)]
#[template(path = "my_trainees.html")]
struct MyTraineesPage {
    chrome: Chrome,
    trainees: Vec<TraineeLine>,
    due_count: usize,
}

pub async fn my_trainees(State(state): State<AppState>, Mentor(signed): Mentor) -> Result<Response, WebError> {
    let def = state.rt.definitions().get(track::PROCESS).cloned().ok_or(WebError::NotFound)?;
    let tr = signed.tr;
    let lang = tr.code();
    let competences: Vec<String> = def.choice_options(track::COMPETENCE).iter().map(|o| o.id.clone()).collect();
    let list = mentoring::my_trainees(state.db(), &signed.session.user.username, &competences).await?;
    let trainees: Vec<TraineeLine> = list
        .into_iter()
        .map(|m| TraineeLine {
            track: m.track,
            name: m.name,
            state: def.state(&m.state).map_or(m.state.clone(), |s| s.label.get(lang).to_owned()),
            due: m
                .due
                .iter()
                .map(|d| match d {
                    Due::AwaitingStart => tr.t("mentoring.awaiting_start").to_owned(),
                    Due::PhaseRecord(p) => tr.f("mentoring.phase_record", &[("n", p.to_string())]),
                    Due::Assessments { done, of } => {
                        tr.f("mentoring.assessments", &[("done", done.to_string()), ("of", of.to_string())])
                    }
                    Due::Services => tr.t("mentoring.services").to_owned(),
                })
                .collect(),
        })
        .collect();
    let due_count = trainees.iter().filter(|t| !t.due.is_empty()).count();
    let chrome = Chrome::signed(&signed, tr.t("nav.mentoring"));
    page(StatusCode::OK, &MyTraineesPage { chrome, trainees, due_count })
}
