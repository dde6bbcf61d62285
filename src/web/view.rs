//! What every page shares: the chrome around it (language, user, CSRF token), rendering with a
//! status, and the words for dates and refusals.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use time::{OffsetDateTime, UtcOffset};

use crate::definition::{Definition, FieldKind, Roles};
use crate::engine::{FieldProblem, GuardFailure, Refusal, TallyError};
use crate::web::errors::{WebError, urlencode};
use crate::web::extract::Signed;
use crate::web::i18n::{Lang, Tr};

/// The frame of every page.
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    pub user_name: Option<String>,
    pub is_admin: bool,
    pub nav: crate::web::extract::Nav,
    pub csrf: String,
    pub path: String,
    pub flash: Option<String>,
}

impl Chrome {
    pub fn signed(s: &Signed, title: impl Into<String>) -> Self {
        Self {
            tr: s.tr,
            title: title.into(),
            user_name: Some(s.session.user.display_name.clone()),
            is_admin: s.is_admin(),
            nav: s.nav,
            csrf: s.session.csrf_token.clone(),
            path: s.path.clone(),
            flash: None,
        }
    }

    pub fn anonymous(tr: Tr, path: &str, title: impl Into<String>) -> Self {
        Self {
            tr,
            title: title.into(),
            user_name: None,
            is_admin: false,
            nav: Default::default(),
            csrf: String::new(),
            path: path.to_owned(),
            flash: None,
        }
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.tr.t(key)
    }

    /// A string with one number in it, for templates.
    pub fn n(&self, key: &str, name: &str, n: impl std::fmt::Display) -> String {
        self.tr.f(key, &[(name, n.to_string())])
    }

    pub fn lang(&self) -> &'static str {
        self.tr.code()
    }

    /// The link that switches to the other language and comes back here.
    pub fn other_lang_href(&self) -> String {
        let other = if self.tr.lang == Lang::Zh { "en" } else { "zh-CN" };
        format!("/lang/{other}?back={}", urlencode(&self.path))
    }
}

/// Renders a page with a status (200, or 422 for a refused form kept as typed).
pub fn page<T: Template>(status: StatusCode, t: &T) -> Result<Response, WebError> {
    Ok((status, Html(t.render()?)).into_response())
}

pub fn fmt_time(t: OffsetDateTime, offset: UtcOffset) -> String {
    let t = t.to_offset(offset);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// A number of a list's items with the word that fits what they are: "5 人" of people, "0 个" of
/// units (never "people"), "3 项" of anything else.
fn count_text(tr: &Tr, def: Option<&Definition>, list: &str, n: usize) -> String {
    use crate::definition::Source;
    let key = match def.and_then(|d| d.field(list)).and_then(|f| f.source) {
        Some(Source::People | Source::Trainees) => "guard.count.people",
        Some(Source::Units) => "guard.count.units",
        None => "guard.count.items",
    };
    tr.f(key, &[("n", n.to_string())])
}

pub fn field_label(def: Option<&Definition>, lang: &str, field: &str) -> String {
    def.and_then(|d| d.field(field)).map_or_else(|| field.to_owned(), |f| f.label.get(lang).to_owned())
}

/// A value a condition read, as the reader reads it: an option by its label, yes or no.
fn value_text(tr: &Tr, def: Option<&Definition>, field: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Bool(b) => tr.t(if *b { "bool.yes" } else { "bool.no" }).to_owned(),
        serde_json::Value::String(s) => def
            .and_then(|d| d.choice_options(field).iter().find(|o| &o.id == s))
            .map_or_else(|| s.clone(), |o| o.label.get(tr.code()).to_owned()),
        other => other.to_string(),
    }
}

/// Why an expression has no value, in the reader's words.
fn eval_error_text(tr: &Tr, def: Option<&Definition>, why: &crate::expr::EvalError) -> String {
    use crate::expr::EvalError as E;
    match why {
        E::Unset(field) => tr.f("guard.not_set", &[("field", field_label(def, tr.code(), field))]),
        E::NoRow { table, key } => {
            let table = def.and_then(|d| d.reference(table)).map_or(table.as_str(), |t| t.label.get(tr.code()));
            tr.f("expr.no_row", &[("table", table.to_owned()), ("key", key.join(tr.t("punct.list")))])
        }
        E::Arithmetic(what) if what.contains("zero") => tr.t("expr.division_by_zero").to_owned(),
        E::Arithmetic(_) => tr.t("expr.out_of_range").to_owned(),
        E::NotAnOption(value) => tr.f("expr.not_an_option", &[("value", value.clone())]),
        E::TooCostly => tr.f("expr.too_costly", &[("steps", crate::expr::MAX_STEPS.to_string())]),
        E::Index(_) | E::Invalid(_) => tr.f("expr.other", &[("detail", why.to_string())]),
    }
}

/// A condition with its fields named as the reader's language quotes them.
fn condition_words(tr: &Tr, def: Option<&Definition>, condition: &crate::expr::Expression) -> String {
    let lang = tr.code();
    let words = crate::expr::Connectives { and: tr.t("expr.and"), or: tr.t("expr.or"), not: tr.t("expr.not") };
    condition.in_words(|f| Some(tr.f("expr.field", &[("field", field_label(def, lang, f))])), words)
}

pub fn field_problem_text(tr: &Tr, p: &FieldProblem) -> String {
    match p {
        FieldProblem::Missing => tr.t("field.missing").to_owned(),
        FieldProblem::NotAsked => tr.t("field.not_asked").to_owned(),
        FieldProblem::NotANumber => tr.t("field.not_a_number").to_owned(),
        FieldProblem::TooSmall { min } => tr.f("field.too_small", &[("min", min.to_string())]),
        FieldProblem::TooLarge { max } => tr.f("field.too_large", &[("max", max.to_string())]),
        FieldProblem::TooLong { max } => tr.f("field.too_long", &[("max", max.to_string())]),
        FieldProblem::NotADate => tr.t("field.not_a_date").to_owned(),
        FieldProblem::DateOutOfRange { min, max } => {
            tr.f("field.date_out_of_range", &[("min", (*min).to_owned()), ("max", (*max).to_owned())])
        }
        FieldProblem::NotABool => tr.t("field.not_a_bool").to_owned(),
        FieldProblem::NotAnOption => tr.t("field.not_an_option").to_owned(),
        FieldProblem::TooFewItems { min } => tr.f("field.too_few_items", &[("min", min.to_string())]),
        FieldProblem::TooManyItems { max } => tr.f("field.too_many_items", &[("max", max.to_string())]),
        FieldProblem::Duplicate { item } => tr.f("field.duplicate", &[("item", item.clone())]),
        FieldProblem::NotText => tr.t("field.not_text").to_owned(),
        FieldProblem::NotInDirectory { item } => tr.f("field.not_in_directory", &[("item", item.clone())]),
        FieldProblem::ReasonNeeded { .. } => tr.t("field.reason_needed").to_owned(),
        FieldProblem::OnlyOne { given } => tr.f("field.only_one", &[("given", given.clone())]),
        FieldProblem::NotOffered { item, .. } => tr.f("field.not_offered", &[("item", item.clone())]),
        FieldProblem::ControlCharacter(c) => tr.f("field.control", &[("code", format!("U+{c:04X}"))]),
        FieldProblem::Deceptive(c) => tr.f("field.deceptive", &[("code", format!("U+{c:04X}"))]),
        FieldProblem::NotMoney => tr.t("field.not_money").to_owned(),
        FieldProblem::MoneyDecimals => tr.t("field.money_decimals").to_owned(),
        FieldProblem::MoneyTooSmall { min } => tr.f("field.too_small", &[("min", money_text(tr, *min))]),
        FieldProblem::MoneyTooLarge { max } => tr.f("field.too_large", &[("max", money_text(tr, *max))]),
    }
}

/// An amount as the reader's language writes it: "3,500.00 元", "3,500.00 yuan".
pub fn money_text(tr: &Tr, amount: rust_decimal::Decimal) -> String {
    tr.f("money.amount", &[("amount", crate::definition::money::format_money(amount))])
}

/// A refusal in the reader's words, with field names as the definition labels them.
pub fn refusal_text(tr: &Tr, def: Option<&Definition>, roles: &Roles, r: &Refusal) -> String {
    let lang = tr.code();
    let label = |f: &str| field_label(def, lang, f);
    match r {
        Refusal::UnknownEvent { .. } => tr.t("refusal.unknown_event").to_owned(),
        Refusal::NotFromState { .. } => tr.t("refusal.not_from_state").to_owned(),
        Refusal::Finished { .. } => tr.t("refusal.finished").to_owned(),
        Refusal::RoleNotAllowed { roles: needed } => {
            let names: Vec<&str> =
                needed.iter().map(|r| roles.roles.get(r).map_or(r.as_str(), |l| l.get(lang))).collect();
            tr.f("refusal.role_not_allowed", &[("roles", names.join(tr.t("punct.list")))])
        }
        Refusal::OutOfScope { .. } => tr.t("refusal.out_of_scope").to_owned(),
        Refusal::SystemOnly { .. } => tr.t("refusal.system_only").to_owned(),
        Refusal::Input(_) => tr.t("refusal.input").to_owned(),
        Refusal::Tally(t) => tr.f("refusal.tally", &[("detail", tally_text(tr, def, t))]),
        Refusal::Ballots(all) => {
            let each: Vec<String> = all.iter().map(|t| tally_text(tr, def, t)).collect();
            tr.f("refusal.tally", &[("detail", each.join(tr.t("punct.list")))])
        }
        Refusal::TimerNeedsDate { field, .. } => tr.f("refusal.timer", &[("field", label(field))]),
        Refusal::DeadlineOutOfRange { event } => {
            let event = def.map_or(event.as_str(), |d| d.event_label(event, lang)).to_owned();
            tr.f("refusal.deadline_out_of_range", &[("event", event)])
        }
        Refusal::NotStartable => tr.t("refusal.not_startable").to_owned(),
        Refusal::AttachmentRequired(label) => {
            tr.f("refusal.attachment_required", &[("what", label.get(lang).to_owned())])
        }
        Refusal::AttachmentNotTaken => tr.t("refusal.attachment_not_taken").to_owned(),
        Refusal::TableFull { table, max } => {
            tr.f("refusal.table_full", &[("table", label(table)), ("max", max.to_string())])
        }
        Refusal::NotSubstitute { absent, gap } => {
            let gap = match gap {
                crate::engine::SubstituteGap::None => tr.t("substitutes.gap.none").to_owned(),
                crate::engine::SubstituteGap::NotYet { from } => {
                    tr.f("substitutes.gap.not_yet", &[("from", from.clone())])
                }
                crate::engine::SubstituteGap::Over { until } => {
                    tr.f("substitutes.gap.over", &[("until", until.clone())])
                }
                crate::engine::SubstituteGap::Ended { on } => tr.f("substitutes.gap.ended", &[("on", on.clone())]),
            };
            tr.f("refusal.not_substitute", &[("absent", absent.clone()), ("gap", gap)])
        }
        Refusal::Duplicate { fields, open } => {
            let names: Vec<String> = fields.iter().map(|f| label(f)).collect();
            tr.f("refusal.duplicate", &[("fields", names.join(tr.t("punct.list"))), ("open", open.to_string())])
        }
        // The definition's own words, placeholders already filled (`named_refusal`).
        Refusal::Guard(_, Some(message)) => message.get(lang).to_owned(),
        Refusal::Guard(g, None) => match g {
            GuardFailure::NotSet { field } => tr.f("guard.not_set", &[("field", label(field))]),
            GuardFailure::AlreadySet { field } => tr.f("guard.already_set", &[("field", label(field))]),
            GuardFailure::NotTrue { field } => tr.f("guard.not_true", &[("field", label(field))]),
            GuardFailure::NotEqual { field, expected } => {
                // A choice's option by its label, never its id.
                let expected = value_text(tr, def, field, &serde_json::Value::String(expected.clone()));
                tr.f("guard.not_equal", &[("field", label(field)), ("expected", expected)])
            }
            GuardFailure::Compare { field, value, op, than, than_field } => {
                // Compared with another field: that field by its label, with its value.
                let than = match than_field {
                    Some(other) => format!("{}{}{than}{}", label(other), tr.t("punct.open"), tr.t("punct.close")),
                    None => than.clone(),
                };
                tr.f(
                    "guard.compare",
                    &[("field", label(field)), ("value", value.clone()), ("op", (*op).to_owned()), ("than", than)],
                )
            }
            GuardFailure::CountsDiffer { a, a_count, b, b_count } => tr.f(
                "guard.counts_differ",
                &[
                    ("a", label(a)),
                    ("a_count", count_text(tr, def, a, *a_count)),
                    ("b", label(b)),
                    ("b_count", count_text(tr, def, b, *b_count)),
                ],
            ),
            GuardFailure::TooFew { field, count, min } => tr.f(
                "guard.too_few",
                &[
                    ("field", label(field)),
                    ("count", count_text(tr, def, field, *count)),
                    ("min", count_text(tr, def, field, *min)),
                ],
            ),
            GuardFailure::NotMember { list, value, .. } => {
                tr.f("guard.not_member", &[("value", value.clone()), ("list", label(list))])
            }
            GuardFailure::Member { list, value, .. } => {
                tr.f("guard.member", &[("value", value.clone()), ("list", label(list))])
            }
            GuardFailure::InBoth { a, b, item } => {
                tr.f("guard.in_both", &[("item", item.clone()), ("a", label(a)), ("b", label(b))])
            }
            GuardFailure::ShareTooLarge { list, part, part_count, total, share } => tr.f(
                "guard.share_too_large",
                &[
                    ("list", label(list)),
                    ("part", label(part)),
                    ("part_count", count_text(tr, def, list, *part_count)),
                    ("total", count_text(tr, def, list, *total)),
                    ("share", share.clone()),
                ],
            ),
            GuardFailure::NotTheActor { field } => tr.f("guard.not_the_actor", &[("field", label(field))]),
            GuardFailure::ActorIn { list } => tr.f("guard.actor_in", &[("list", label(list))]),
            GuardFailure::NotRoleOrDelegate { field, role } => {
                let role = roles.roles.get(role).map_or(role.as_str(), |l| l.get(lang));
                tr.f("guard.role_or_delegate", &[("field", label(field)), ("role", role.to_owned())])
            }
            GuardFailure::BelowInMap { map, keys_field, key, found, min } => {
                let key = match def.and_then(|d| d.field(keys_field)).map(|f| &f.kind) {
                    Some(FieldKind::Choice { options }) => options
                        .iter()
                        .find(|o| &o.id == key)
                        .map_or_else(|| key.clone(), |o| o.label.get(lang).to_owned()),
                    _ => format!("{} {key}", label(keys_field)),
                };
                let args = [("map", label(map)), ("key", key), ("min", min.to_string())];
                match found {
                    Some(found) => {
                        let [a, b, c] = args;
                        tr.f("guard.below_in_map", &[a, b, c, ("found", found.to_string())])
                    }
                    None => tr.f("guard.missing_in_map", &args),
                }
            }
            GuardFailure::Condition { condition, values } => {
                let named = condition_words(tr, def, condition);
                let quoted = |f: &str| tr.f("expr.field", &[("field", label(f))]);
                let values: Vec<String> =
                    values.iter().map(|(f, v)| format!("{} {}", quoted(f), value_text(tr, def, f, v))).collect();
                if values.is_empty() {
                    tr.f("guard.condition", &[("condition", named)])
                } else {
                    let values = values.join(tr.t("punct.list"));
                    tr.f("guard.condition_values", &[("condition", named), ("values", values)])
                }
            }
            GuardFailure::NotComputed { field, why } => {
                tr.f("guard.not_computed", &[("field", label(field)), ("why", eval_error_text(tr, def, why))])
            }
            GuardFailure::Uncomputable { condition, why } => {
                let named = condition_words(tr, def, condition);
                tr.f("guard.uncomputable", &[("condition", named), ("why", eval_error_text(tr, def, why))])
            }
            GuardFailure::Vote { expected } => {
                tr.f("guard.vote", &[("expected", tr.t(&format!("vote.check.{expected}")).to_owned())])
            }
        },
    }
}

/// A person, role or unit typed wrong, in the reader's words.
pub fn people_error_text(tr: &Tr, e: &crate::people::PeopleError) -> String {
    use crate::people::PeopleError as E;
    match e {
        E::BadUsername => tr.t("people.bad_username").to_owned(),
        E::BadDisplayName => tr.t("people.bad_display_name").to_owned(),
        E::ShortPassword(min) => tr.f("people.short_password", &[("min", min.to_string())]),
        E::UnknownRole(role) => tr.f("people.unknown_role", &[("role", role.clone())]),
        E::UnitNeeded(role) => tr.f("people.unit_needed", &[("role", role.clone())]),
        E::UnknownUnit(unit) => tr.f("people.unknown_unit", &[("unit", unit.clone())]),
        E::BadUnitId => tr.t("people.bad_unit_id").to_owned(),
        E::BadUnitText(max) => tr.f("people.bad_unit_text", &[("max", max.to_string())]),
        E::BadRosterName { line, max, most } => tr.f(
            "people.bad_roster_name",
            &[("line", line.to_string()), ("max", max.to_string()), ("most", most.to_string())],
        ),
        E::RepeatedRosterName { line, name } => {
            tr.f("people.roster_repeated", &[("line", line.to_string()), ("name", name.clone())])
        }
        E::Unreadable(p) => field_problem_text(tr, &FieldProblem::from(*p)),
    }
}

/// The figures that decided a vote: "present 18 of 25 — quorum 17; in favour 14 — 13 needed".
pub fn vote_figures(tr: &Tr, v: &crate::engine::VoteResult) -> String {
    tr.f(
        "instance.vote.figures",
        &[
            ("present", v.present.to_string()),
            ("roster", v.roster.to_string()),
            ("quorum_needed", v.quorum_needed.to_string()),
            ("yes", v.yes.to_string()),
            ("yes_needed", v.yes_needed.to_string()),
            ("no", v.no.to_string()),
            ("abstain", v.abstain.to_string()),
        ],
    )
}

/// The figures of the vote stored in an instance's data, with the rule that decided them: its
/// name, and for the quorum and the pass whether "at least" or "more than", of which base.
/// ("赞成 50（需 50）" under Art. 36 and "（需 51）" under the strict rule must not look alike.)
pub fn decided_vote(
    tr: &Tr,
    def: &Definition,
    stored: &serde_json::Value,
) -> Option<(crate::engine::VoteResult, String)> {
    let v = serde_json::from_value::<crate::engine::VoteResult>(stored.clone()).ok()?;
    let figures = vote_figures(tr, &v);
    let rule = stored.get("rule").and_then(serde_json::Value::as_str).and_then(|id| def.vote_rules.get(id));
    let text = match rule {
        Some(rule) => {
            let threshold = |t: &crate::definition::Threshold| threshold_text(tr, t);
            let rule_text = tr.f(
                "instance.vote.rule",
                &[
                    ("rule", rule.label.get(tr.code()).to_owned()),
                    ("quorum", threshold(&rule.quorum)),
                    ("pass", threshold(&rule.pass)),
                ],
            );
            format!("{figures}{}{rule_text}", tr.t("punct.sentence_break"))
        }
        None => figures,
    };
    Some((v, text))
}

/// "at least 1/2 of the whole roster", "more than 1/2 of those present".
pub fn threshold_text(tr: &Tr, t: &crate::definition::Threshold) -> String {
    let base = match t.of {
        crate::definition::VoteBase::Roster => tr.t("vote.base.roster"),
        crate::definition::VoteBase::Present => tr.t("vote.base.present"),
    };
    let share = format!("{}/{}", t.share.num(), t.share.den());
    let key = if t.strict { "vote.more_than" } else { "vote.at_least" };
    tr.f(key, &[("share", share), ("base", base.to_owned())])
}

/// How the last vote's rule words a passing vote, for a document's `{rule.wording}`: the rule's
/// own words where it gives them ("经全体代表（职工）半数以上同意"), else its threshold.
pub fn pass_wording(tr: &Tr, def: &Definition, stored: &serde_json::Value) -> Option<String> {
    let rule = stored.get("rule").and_then(serde_json::Value::as_str).and_then(|id| def.vote_rules.get(id))?;
    Some(match &rule.wording {
        Some(words) => words.get(tr.code()).to_owned(),
        None => tr.f("vote.passed_by", &[("pass", threshold_text(tr, &rule.pass))]),
    })
}

pub fn tally_text(tr: &Tr, def: Option<&Definition>, t: &TallyError) -> String {
    match t {
        TallyError::PresentAboveRoster { present, roster } => {
            tr.f("tally.present_above_roster", &[("present", present.to_string()), ("roster", roster.to_string())])
        }
        TallyError::VotesAbovePresent { cast, present } => {
            tr.f("tally.votes_above_present", &[("cast", cast.to_string()), ("present", present.to_string())])
        }
        TallyError::MissingCount { field } => tr.f("tally.missing", &[("field", field_label(def, tr.code(), field))]),
        TallyError::NotOnRoster { name } => tr.f("tally.not_on_roster", &[("name", name.clone())]),
        TallyError::VotedButAbsent { name } => tr.f("tally.voted_but_absent", &[("name", name.clone())]),
        TallyError::VotedTwice { name } => tr.f("tally.voted_twice", &[("name", name.clone())]),
    }
}

/// Days from `now` to a deadline, in words: "3 days left", "due today", "2 days overdue".
pub fn deadline_text(tr: &Tr, due: OffsetDateTime, now: OffsetDateTime) -> (String, bool) {
    let hours = (due - now).whole_hours();
    if hours < 0 {
        let days = (-hours + 23) / 24;
        (tr.f("deadline.overdue", &[("days", days.to_string())]), true)
    } else if hours < 24 {
        (tr.t("deadline.today").to_owned(), true)
    } else {
        (tr.f("deadline.days_left", &[("days", (hours / 24).to_string())]), hours < 72)
    }
}

/// The warning beside a deadline computed on a calendar that is a guess (a year with no
/// published holiday notice); `None` when it rests on published calendars.
pub fn provisional_note(tr: &Tr, years: &[i32]) -> Option<String> {
    (!years.is_empty()).then(|| {
        let years = years.iter().map(i32::to_string).collect::<Vec<_>>().join(tr.t("punct.list"));
        tr.f("deadline.provisional", &[("years", years)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guard without words of its own counts what its lists hold: units are not people, and
    /// two lists of units are not "sides".
    #[test]
    fn built_in_words_count_a_list_by_what_it_holds() {
        let set = crate::definition::embedded::load_embedded().expect("built-in definitions");
        let def = set.get("bargaining_round").map(|d| d.as_ref());
        let units = Refusal::Guard(
            GuardFailure::CountsDiffer { a: "published_units".into(), a_count: 0, b: "units".into(), b_count: 12 },
            None,
        );
        let people = Refusal::Guard(GuardFailure::TooFew { field: "worker_reps".into(), count: 2, min: 3 }, None);
        let zh = Tr::new(Lang::Zh);
        assert_eq!(
            refusal_text(&zh, def, &set.roles, &units),
            "“已公布的单位”有 0 个，“覆盖单位”有 12 个：两者必须一样多。"
        );
        assert_eq!(refusal_text(&zh, def, &set.roles, &people), "“职工方协商代表”只有 2 人，至少需要 3 人。");
        let en = refusal_text(&Tr::new(Lang::En), def, &set.roles, &units);
        assert_eq!(en, "Units where it is published has 0 and Units in scope has 12: the two must be the same number.");
    }
}
