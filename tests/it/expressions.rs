//! Expressions in definitions (issue 13, items 1 and 2): guards written as conditions, computed
//! fields kept with the instance, and `validate` refusing what does not check, at FILE:LINE:COL.

use serde_json::json;

use unionflow::definition::{SourceFile, load};
use unionflow::engine::{GuardFailure, Refusal};
use unionflow::runtime::RuntimeError;
use unionflow::web::i18n::{Lang, Tr};

use crate::on_both_backends;
use crate::support::{Backend, Harness, ROLES, admin, data, defs};

const SCREENING: &str = r#"
id = "screening"
label = { zh = "筛查", en = "Screening" }
initial = "open"

[start]
roles = ["admin"]
ask = ["household"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "筛查中", en = "Screening" }

[[state]]
id = "accepted"
stage = "main"
final = true
outcome = "passed"
label = { zh = "纳入", en = "Accepted" }

[[field]]
id = "household"
type = "int"
min = 1
label = { zh = "家庭人口", en = "Household size" }

[[field]]
id = "income"
type = "int"
min = 0
label = { zh = "家庭月收入", en = "Monthly income" }

[[field]]
id = "disabled"
type = "bool"
label = { zh = "有残疾", en = "Disabled" }

[[field]]
id = "per_person"
type = "int"
label = { zh = "人均月收入", en = "Income per person" }
compute = "income / household"

[[field]]
id = "tier"
type = "choice"
label = { zh = "困难类别", en = "Tier" }
options = [
  { id = "deep", label = { zh = "深度困难", en = "Deep" } },
  { id = "relative", label = { zh = "相对困难", en = "Relative" } },
  { id = "none", label = { zh = "不困难", en = "None" } },
]
compute = "per_person < 1180 ? \"deep\" : per_person < 2 * 1180 ? \"relative\" : \"none\""

[[transition]]
event = "record_figures"
from = "open"
to = "open"
roles = ["admin"]
label = { zh = "登记收入", en = "Record figures" }
ask = ["income", "disabled"]

[[transition]]
event = "accept"
from = "open"
to = "accepted"
roles = ["admin"]
label = { zh = "纳入", en = "Accept" }
guards = [{ when = "tier != \"none\" || disabled" }]

[[transition]]
event = "urgent_aid"
from = "open"
roles = ["admin"]
label = { zh = "紧急救助", en = "Urgent aid" }
task = false
guards = [{ equals = { field = "tier", value = "deep" } }]
"#;

async fn a_computed_field_follows_its_inputs_and_a_condition_reads_it(backend: Backend) {
    let h = Harness::new(backend, defs(&[("screening.toml", SCREENING)])).await;
    let id = h.rt.start("screening", &admin(), &data(json!({ "household": 3 }))).await.unwrap();
    assert!(h.data(id).await.get("tier").is_none(), "no tier before the income is known");

    // Exactly 2 × 1180 per person is not relative hardship: the boundary is "below".
    h.rt.fire(id, None, &admin(), "record_figures", &data(json!({ "income": "7080", "disabled": false })))
        .await
        .unwrap();
    let d = h.data(id).await;
    assert_eq!((d["per_person"].clone(), d["tier"].clone()), (json!(2360), json!("none")));
    let refused = h.rt.fire(id, None, &admin(), "accept", &data(json!({}))).await.unwrap_err();
    let RuntimeError::Refused(r @ Refusal::Guard(GuardFailure::Condition { .. }, None)) = &refused else {
        panic!("{refused:?}")
    };
    let words = unionflow::web::view::refusal_text(
        &Tr::new(Lang::Zh),
        Some(&h.rt.definitions().get("screening").unwrap().clone()),
        &h.rt.definitions().roles,
        r,
    );
    assert_eq!(words, "需要满足：“困难类别” != \"none\" 或 “有残疾”（现为 “困难类别” 不困难、“有残疾” 否）。");

    // A refusal names a choice's option by its label, not its id.
    let refused = h.rt.fire(id, None, &admin(), "urgent_aid", &data(json!({}))).await.unwrap_err();
    let RuntimeError::Refused(r) = &refused else { panic!("{refused:?}") };
    let def = h.rt.definitions().get("screening").unwrap().clone();
    let words = unionflow::web::view::refusal_text(&Tr::new(Lang::Zh), Some(&def), &h.rt.definitions().roles, r);
    assert!(words.contains("深度困难") && !words.contains("deep"), "{words}");

    // One yuan less a month: relative hardship, and the household may be accepted.
    h.rt.fire(id, None, &admin(), "record_figures", &data(json!({ "income": "7079", "disabled": false })))
        .await
        .unwrap();
    assert_eq!(h.data(id).await["tier"], json!("relative"));
    h.rt.fire(id, None, &admin(), "accept", &data(json!({}))).await.unwrap();
}

on_both_backends! {
    computed_fields_and_conditions => a_computed_field_follows_its_inputs_and_a_condition_reads_it;
}

fn problems(text: &str) -> Vec<String> {
    let files = [
        SourceFile { path: "roles.toml".into(), text: ROLES.into() },
        SourceFile { path: "screening.toml".into(), text: text.into() },
    ];
    match load(&files) {
        Ok(_) => Vec::new(),
        Err(p) => p.0.iter().map(ToString::to_string).collect(),
    }
}

/// Line and column (from 1) of the first `needle` in `text`.
fn place(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in text"));
    (text[..at].matches('\n').count() + 1, at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1)
}

#[test]
fn validate_refuses_unknown_fields_and_type_errors_at_their_place() {
    let unknown = SCREENING.replace("tier != \\\"none\\\" || disabled", "tier != \\\"none\\\" || disbled");
    let (line, col) = place(&unknown, "disbled");
    assert_eq!(problems(&unknown), vec![format!("screening.toml:{line}:{col}: unknown field `disbled`")]);

    let mistyped = SCREENING.replace("compute = \"income / household\"", "compute = \"income / household + disabled\"");
    let (line, col) = place(&mistyped, "+ disabled");
    let found = problems(&mistyped);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(&format!("screening.toml:{line}:{col}: compute of \"per_person\"")), "{found:?}");
    assert!(found[0].contains("does not take (int, bool)"), "{found:?}");

    // A computed field reads only those before it; it gives its field's type; it is never asked.
    let later = SCREENING.replace("compute = \"income / household\"", "compute = \"income / household + size(tier)\"");
    assert!(problems(&later).iter().any(|p| p.contains("unknown field `tier`")), "{:?}", problems(&later));
    let wrong_type = SCREENING.replace("compute = \"income / household\"", "compute = \"income > household\"");
    assert!(problems(&wrong_type).iter().any(|p| p.contains("expected int, but the expression gives bool")));
    let asked = SCREENING.replace("ask = [\"income\", \"disabled\"]", "ask = [\"income\", \"tier\"]");
    assert!(problems(&asked).iter().any(|p| p.contains("field \"tier\" is computed: it is never asked")));
    let not_bool = SCREENING.replace("when = \"tier != \\\"none\\\" || disabled\"", "when = \"per_person\"");
    assert!(problems(&not_bool).iter().any(|p| p.contains("expected bool")), "{:?}", problems(&not_bool));
}

const REVIEW: &str = r#"
id = "review"
label = { zh = "复核", en = "Review" }
initial = "registered"

[start]
roles = ["admin"]
ask = ["registered_on"]
optional = ["last_review"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "registered"
stage = "main"
label = { zh = "在册", en = "Registered" }

# A year after the last review, or after registration when there has been none.
[[state.timer]]
id = "yearly_review"
fires = "review_due"
date = "is_set(last_review) ? last_review : registered_on"
after = "12m"
working_day = false

[[state]]
id = "exited"
stage = "main"
final = true
outcome = "passed"
label = { zh = "退出", en = "Exited" }

[[field]]
id = "registered_on"
type = "date"
label = { zh = "登记日期", en = "Registered on" }

[[field]]
id = "last_review"
type = "date"
label = { zh = "上次复核", en = "Last review" }

[[transition]]
event = "review_due"
from = "registered"
roles = ["system"]
label = { zh = "复核到期", en = "Review due" }
effects = [{ escalate = "admin" }]

[[transition]]
event = "exit"
from = "registered"
to = "exited"
roles = ["admin"]
label = { zh = "退出", en = "Exit" }
"#;

async fn a_timer_counts_from_the_date_an_expression_gives(backend: Backend) {
    let h = Harness::new(backend, defs(&[("review.toml", REVIEW)])).await;
    let today = h.rt.today();
    let earlier = today - time::Duration::days(100);
    let fresh = h.rt.start("review", &admin(), &data(json!({ "registered_on": today.to_string() }))).await.unwrap();
    let reviewed =
        h.rt.start(
            "review",
            &admin(),
            &data(json!({ "registered_on": today.to_string(), "last_review": earlier.to_string() })),
        )
        .await
        .unwrap();
    // The household reviewed 100 days ago is due 100 days before the one registered today.
    h.clock.advance(time::Duration::days(366 - 100));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert!(h.data(reviewed).await.contains_key("escalations") && !h.data(fresh).await.contains_key("escalations"));
    h.clock.advance(time::Duration::days(100));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert!(h.data(fresh).await.contains_key("escalations"));
}

on_both_backends! {
    timer_dates_from_expressions => a_timer_counts_from_the_date_an_expression_gives;
}

#[test]
fn a_timer_date_expression_is_checked() {
    let text = REVIEW.replace(": registered_on\"", ": 3\"");
    let files = [
        SourceFile { path: "roles.toml".into(), text: ROLES.into() },
        SourceFile { path: "review.toml".into(), text: text.clone() },
    ];
    let err = load(&files).expect_err("a date and a number are not one type").to_string();
    let (line, col) = place(&text, "? last_review");
    assert!(err.contains(&format!("review.toml:{line}:{col}: timer date:")), "{err}");
}

async fn a_computed_choice_outside_its_options_refuses_the_step(backend: Backend) {
    let odd = SCREENING.replace(": \\\"none\\\"\"", ": \\\"unheard_of\\\"\"");
    assert_ne!(odd, SCREENING, "the tier's last branch is replaced");
    let h = Harness::new(backend, defs(&[("screening.toml", &odd)])).await;
    let id = h.rt.start("screening", &admin(), &data(json!({ "household": 1 }))).await.unwrap();
    let refused =
        h.rt.fire(id, None, &admin(), "record_figures", &data(json!({ "income": "9000", "disabled": false }))).await;
    let Err(RuntimeError::Refused(r)) = refused else { panic!("{refused:?}") };
    let def = h.rt.definitions().get("screening").unwrap().clone();
    let words = unionflow::web::view::refusal_text(&Tr::new(Lang::Zh), Some(&def), &h.rt.definitions().roles, &r);
    assert_eq!(words, "无法计算“困难类别”：“unheard_of”不是它的选项之一。");
}

on_both_backends! {
    computed_choice_outside_options => a_computed_choice_outside_its_options_refuses_the_step;
}
