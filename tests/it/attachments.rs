//! Attachments: a file added to an instance shows in its history beside the steps and in its
//! audit chain with its sha256, comes back byte for byte as a download that no browser renders;
//! files of the wrong type, too large, or pages dressed as PDFs are refused and leave nothing; a
//! step whose definition requires a file is refused without one and carries it when given.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;
use unionflow::engine::{Actor, Data, Refusal};
use unionflow::runtime::{Fired, Runtime, RuntimeError};

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{Browser, Page, RoundAt, Web, admin, employer, worker};

on_both_backends! {
    a_file_joins_the_history_and_the_chain_and_comes_back_whole => a_file_joins_the_history_and_the_chain_and_comes_back_whole;
    wrong_types_oversized_files_and_pages_dressed_as_pdfs_leave_nothing => wrong_types_oversized_files_and_pages_dressed_as_pdfs_leave_nothing;
    the_bureaus_objection_must_carry_its_written_opinion => the_bureaus_objection_must_carry_its_written_opinion;
}

/// A PDF of `len` bytes (more than a chunk, and not UTF-8), as a scanner would write one.
pub fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut x: u32 = 7;
    while bytes.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.push((x >> 16) as u8);
    }
    bytes.truncate(len);
    bytes
}

pub fn sha256(bytes: &[u8]) -> String {
    unionflow::audit::sha256_hex(bytes)
}

/// A multipart body: text parts first (the CSRF token among them), then a file part.
pub fn multipart(parts: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let b = "attachmentboundary7f3a";
    let mut body = Vec::new();
    for (name, value) in parts {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
    }
    if let Some((file_name, bytes)) = file {
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{b}--\r\n").bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

pub async fn upload(browser: &mut Browser, path: &str, parts: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Page {
    let (content_type, body) = multipart(parts, file);
    let req = Request::post(path).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).expect("request");
    browser.send(req).await
}

/// A download: its status, headers and bytes as they are (a file is not UTF-8).
async fn download(browser: &Browser, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(path).body(Body::empty()).expect("request");
    req.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::new(browser.from, 40000)));
    let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    req.headers_mut().insert(header::COOKIE, cookie.parse().expect("cookie"));
    let resp = unionflow::web::router(browser.state.clone()).oneshot(req).await.expect("a response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("a body");
    (status, headers, bytes.to_vec())
}

/// Stores `bytes` as `name` and fires `event` carrying it, as the step form does: one
/// transaction for both.
pub async fn fire_with_file(
    rt: &Runtime,
    id: i64,
    actor: &Actor,
    event: &str,
    given: Data,
    name: &str,
    bytes: &[u8],
) -> Result<Fired, RuntimeError> {
    use unionflow::attachments::{FileName, Upload};
    let txn = unionflow::store::db::begin_write(rt.db()).await?;
    let file_name = FileName::parse(name).expect("a file name");
    let mut writer = unionflow::store::attachments::Writer::open(&txn, id, name, &actor.name, rt.clock().now()).await?;
    let mut upload = Upload::new(file_name);
    for piece in bytes.chunks(100_000) {
        upload.push(piece).expect("a file taken");
        writer.write(&txn, piece).await?;
    }
    let file = writer.finish(&txn, &upload.finish().expect("a file taken")).await?;
    let fired = rt.fire_attached_in(&txn, id, None, actor, None, event, &given, Some(&file)).await?;
    txn.commit().await?;
    Ok(fired)
}

async fn stored(web: &Web) -> (i64, i64) {
    (
        web.count("SELECT COUNT(*) AS n FROM attachments").await,
        web.count("SELECT COUNT(*) AS n FROM attachment_chunks").await,
    )
}

/// An assembly of u01 with its meeting scheduled; its secretary signed in.
async fn scheduled_assembly(web: &Web) -> (i64, Browser) {
    web.units(&["u01", "u02"]).await;
    web.people(&[("admin", &["admin"]), ("chen.jing", &["unit_secretary@u01"]), ("liu.yang", &["unit_secretary@u02"])])
        .await;
    let start = crate::support::data(json!({ "unit": "u01", "draft_version": 1 }));
    let id = web.rt().start("assembly_approval", &admin(), &start).await.unwrap();
    web.fire(id, &admin(), "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let mut secretary = web.browser();
    secretary.sign_in("chen.jing").await;
    (id, secretary)
}

async fn a_file_joins_the_history_and_the_chain_and_comes_back_whole(backend: Backend) {
    let web = Web::embedded(backend).await;
    let (id, mut secretary) = scheduled_assembly(&web).await;
    let version = web.rt().instance(id).await.unwrap().row.version;
    let csrf = secretary.csrf().await;
    let scan = pdf(600 * 1024);
    let path = format!("/instances/{id}/attachments");
    // About the schedule step, the second event of the history.
    let sent =
        upload(&mut secretary, &path, &[("_csrf", &csrf), ("on_step", "1")], Some(("会议通知 扫描件.pdf", &scan)))
            .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(stored(&web).await, (1, 3), "600 KiB kept in three chunks of 256 KiB");
    assert_eq!(web.rt().instance(id).await.unwrap().row.version, version, "a file does not make open forms stale");

    // In the chain: the event records the file's name, size, type and sha256.
    let history = web.rt().history(id).await.unwrap();
    let event = history.iter().find(|e| e.record.kind == "attachment").expect("an attachment event");
    let file = &event.data()["attachment"];
    assert_eq!(file["sha256"], json!(sha256(&scan)));
    assert_eq!((file["name"].clone(), file["size"].clone()), (json!("会议通知 扫描件.pdf"), json!(scan.len())));
    assert_eq!((file["media_type"].clone(), event.data()["on_step"].clone()), (json!("application/pdf"), json!(1)));
    assert_eq!(event.record.actor, "chen.jing");
    assert_eq!(web.verify().await.broken, None, "the chain covers the file");

    // In the history, beside the steps, with a link that downloads it byte for byte.
    let page = secretary.get(&format!("/instances/{id}")).await;
    let href = format!("/instances/{id}/attachments/{}", file["id"]);
    assert!(page.body.contains(&format!(r#"href="{href}""#)), "{}", page.body);
    assert!(page.body.contains("会议通知 扫描件.pdf") && page.body.contains("600.0 KiB"));
    let (status, headers, bytes) = download(&secretary, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == scan, "the same bytes come back");
    let h = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let disposition = h(header::CONTENT_DISPOSITION);
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E9%80%9A%E7%9F%A5%20"), "{disposition}");
    let csp = h(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "{csp}");

    // Who may not read the instance may not download its files; a file of another instance is
    // not found through this one.
    let mut other = web.browser();
    other.sign_in("liu.yang").await;
    assert_eq!(download(&other, &href).await.0, StatusCode::FORBIDDEN);
    let second = web
        .rt()
        .start("assembly_approval", &admin(), &crate::support::data(json!({ "unit": "u01", "draft_version": 2 })))
        .await
        .unwrap();
    let elsewhere = format!("/instances/{second}/attachments/{}", file["id"]);
    assert_eq!(download(&secretary, &elsewhere).await.0, StatusCode::NOT_FOUND);

    // A text file on the whole instance; a step goes on after the files moved the chain's head.
    let minutes = "会议纪要\n出席 27 人。\n".as_bytes();
    let sent = upload(&mut secretary, &path, &[("_csrf", &csrf), ("on_step", "")], Some(("纪要.txt", minutes))).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    web.fire(id, &admin(), "open_session", json!({})).await;
    assert_eq!(web.state_of(id).await, "in_session");
    assert_eq!(web.verify().await.broken, None);
}

async fn wrong_types_oversized_files_and_pages_dressed_as_pdfs_leave_nothing(backend: Backend) {
    let web = Web::embedded(backend).await;
    let (id, mut secretary) = scheduled_assembly(&web).await;
    let csrf = secretary.csrf().await;
    let path = format!("/instances/{id}/attachments");
    let before = web.rt().history(id).await.unwrap().len();
    let tr = crate::web::zh();

    let page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let refused = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("审查意见书.pdf", page))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(tr.t("attachment.markup")), "a page named .pdf is refused as a page");

    let program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff";
    let refused = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("setup.pdf", program))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(tr.t("attachment.unknown")));

    let refused = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("scan.png", &pdf(2000)))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a PDF named .png");

    // One byte past 20 MiB, streamed: refused once the limit is passed, the limit named.
    let big = pdf(20 * 1024 * 1024 + 1);
    let refused = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("big.pdf", &big))).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(refused.body.contains("20 MiB"), "the refusal names the limit");
    // Exactly the limit is taken.
    let edge = pdf(20 * 1024 * 1024);
    let taken = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("edge.pdf", &edge))).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    assert_eq!(stored(&web).await, (1, 80), "only the file within the limit is kept");

    // A forged post (no token before the file), a name with a folder, and a form without a file.
    let forged = upload(&mut secretary, &path, &[("_csrf", "forged")], Some(("a.pdf", &pdf(100)))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let folder = upload(&mut secretary, &path, &[("_csrf", &csrf)], Some(("../a.pdf", &pdf(100)))).await;
    assert_eq!(folder.status, StatusCode::UNPROCESSABLE_ENTITY);
    let none = upload(&mut secretary, &path, &[("_csrf", &csrf)], None).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains(tr.t("attachment.no_file")));

    assert_eq!(stored(&web).await, (1, 80), "refused files leave no rows");
    assert_eq!(web.rt().history(id).await.unwrap().len(), before + 1, "and no events");
    assert_eq!(web.verify().await.broken, None);
}

/// A round whose signed contract is with the bureau.
async fn round_under_review(web: &Web) -> i64 {
    web.negotiators().await;
    let id = web.round(&["u01"], RoundAt::UnitReview).await;
    for assembly in web.assemblies(id).await.into_values() {
        web.vote(assembly, 30, 27, 22).await;
        web.fire(assembly, &admin(), "confirm", json!({})).await;
    }
    let (worker, employer) = (worker(), employer());
    web.fire(id, &worker, "accept_confirmations", json!({})).await;
    for (who, event) in [
        (&worker, "sign_contract_worker"),
        (&employer, "sign_contract_employer"),
        (&worker, "seal_worker"),
        (&employer, "seal_employer"),
        (&employer, "submit_to_bureau"),
    ] {
        web.fire(id, who, event, json!({})).await;
    }
    assert_eq!(web.state_of(id).await, "bureau_review");
    id
}

async fn the_bureaus_objection_must_carry_its_written_opinion(backend: Backend) {
    let web = Web::embedded(backend).await;
    let id = round_under_review(&web).await;
    let bureau = Actor::new("ma.qiang", ["bureau_reviewer"]);
    let reasons = crate::support::data(json!({ "objection": "第十二条工时条款违反规定" }));

    // Without the file the engine refuses, whoever asks (the API fires through the same door).
    match web.rt().fire(id, None, &bureau, "object", &reasons).await {
        Err(RuntimeError::Refused(Refusal::AttachmentRequired(label))) => assert_eq!(label.zh, "审查意见书"),
        other => panic!("an objection without its opinion should be refused, got {other:?}"),
    }

    // The API says so with a problem document, and takes nothing.
    let api = crate::api::Client::of(&web);
    let token = crate::api::token(&web, "bureau-system", &["bureau_reviewer"], 60).await;
    let body = json!({ "data": { "objection": "第十二条工时条款违反规定" } });
    let answer = api.post(&format!("/api/v1/instances/{id}/events/object"), &token, body).await;
    assert_eq!(
        (answer.status, answer.json["reason"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("attachment_required")),
        "{answer:?}"
    );
    assert!(
        answer.json["detail"].as_str().is_some_and(|d| d.contains("审查意见书") || d.contains("written opinion")),
        "{answer:?}"
    );
    assert_eq!(web.state_of(id).await, "bureau_review");

    // The page's form carries a file input, and posted without a file it is refused and says why.
    let mut reviewer = web.browser();
    reviewer.sign_in("ma.qiang").await;
    let page = reviewer.get(&format!("/instances/{id}")).await;
    let action = format!("/instances/{id}/fire/object/with-file");
    assert!(page.body.contains(&format!(r#"action="{action}" enctype="multipart/form-data""#)), "{}", page.body);
    assert!(page.body.contains(r#"id="file-object" name="file" type="file""#));
    let csrf = page.hidden("_csrf");
    let version = page.hidden("_version");
    let parts = [("_csrf", csrf.as_str()), ("_version", version.as_str()), ("objection", "第十二条工时条款违反规定")];
    let refused = upload(&mut reviewer, &action, &parts, None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("此步骤须附上文件：审查意见书。"), "{}", refused.body);
    assert_eq!(refused.field("objection").as_deref(), Some("第十二条工时条款违反规定"), "what was typed is kept");
    // A page dressed as the opinion is refused too, and the round stays where it was.
    let page_file: &[u8] = b"<html><body>not a letter</body></html>";
    let refused = upload(&mut reviewer, &action, &parts, Some(("审查意见书.pdf", page_file))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(web.state_of(id).await, "bureau_review");
    assert_eq!(stored(&web).await, (0, 0));

    // With the scan the objection goes through, the file and the step in one transaction.
    let opinion = pdf(300 * 1024);
    let taken = upload(&mut reviewer, &action, &parts, Some(("审查意见书.pdf", &opinion))).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(web.state_of(id).await, "negotiating");
    let history = web.rt().history(id).await.unwrap();
    let step = history.iter().rev().find(|e| e.record.event.as_deref() == Some("object")).expect("the objection");
    assert_eq!(step.data()["attachment"]["sha256"], json!(sha256(&opinion)), "the step's event carries the sha256");
    let linked = web
        .count(&format!(
            "SELECT COUNT(*) AS n FROM attachments WHERE event_seq = {} AND size = {}",
            step.record.seq,
            opinion.len()
        ))
        .await;
    assert_eq!(linked, 1, "the file is linked to its step");
    assert_eq!(web.verify().await.broken, None);
    let page = reviewer.get(&format!("/instances/{id}")).await;
    assert!(page.body.contains("审查意见书.pdf"), "the history shows the file beside the step");
}

const FILED: &str = r#"
id = "filed"
label = { zh = "归档", en = "Filed" }
initial = "open"

[start]
roles = ["admin"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "开放", en = "Open" }

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完成", en = "Done" }

[[transition]]
event = "file"
from = "open"
to = "done"
roles = ["clerk"]
label = { zh = "归档", en = "File it" }
attachment = { required = true, label = { zh = "扫描件", en = "The scan" } }

[[transition]]
event = "note"
from = "open"
roles = ["clerk"]
label = { zh = "备注", en = "Note" }
"#;

/// The engine alone: a step that requires a file is refused without one, one that takes none is
/// refused with one, and the decision carries the file for the step's audit event.
#[test]
fn the_engine_judges_whether_a_step_carries_its_file() {
    use unionflow::engine::{Attached, Context, decide_attached};
    let set = crate::support::defs(&[("filed.toml", FILED)]);
    let def = set.get("filed").expect("the definition");
    let clerk = Actor::new("li", ["clerk"]);
    let ctx = Context {
        now: crate::support::START,
        calendar: &set.calendar,
        offset: time::macros::offset!(+8),
        people: None,
    };
    let scan =
        Attached { id: 1, name: "a.pdf".into(), media_type: "application/pdf".into(), size: 9, sha256: "ab".into() };
    let none = Data::new();
    match decide_attached(def, "open", &none, &clerk, "file", &none, None, ctx) {
        Err(Refusal::AttachmentRequired(label)) => assert_eq!(label.en, "The scan"),
        other => panic!("refused without the scan, got {other:?}"),
    }
    let decided = decide_attached(def, "open", &none, &clerk, "file", &none, Some(&scan), ctx).expect("taken");
    assert_eq!((decided.to.as_str(), decided.attachment), ("done", Some(scan.clone())));
    assert_eq!(
        decide_attached(def, "open", &none, &clerk, "note", &none, Some(&scan), ctx),
        Err(Refusal::AttachmentNotTaken)
    );
}

/// The loader: an attachment's label in both languages, and never required of the system.
#[test]
fn a_definition_names_its_file_and_never_asks_the_system_for_one() {
    let load = |text: &str| {
        let files = [
            unionflow::definition::SourceFile { path: "roles.toml".into(), text: crate::support::ROLES.into() },
            unionflow::definition::SourceFile { path: "filed.toml".into(), text: text.into() },
        ];
        unionflow::definition::load(&files).err().map(|p| p.to_string()).unwrap_or_default()
    };
    assert_eq!(load(FILED), "");
    let blank = FILED.replace(r#"en = "The scan""#, r#"en = " ""#);
    assert!(load(&blank).contains("needs both zh and en"), "{}", load(&blank));
    let system = FILED.replace(
        r#"roles = ["clerk"]
label = { zh = "归档""#,
        r#"roles = ["system"]
label = { zh = "归档""#,
    );
    assert!(load(&system).contains("attaches no file"), "{}", load(&system));
    let unknown = FILED.replace("required = true,", "required = true, size = 3,");
    assert!(!load(&unknown).is_empty(), "an unknown key is refused");
}
