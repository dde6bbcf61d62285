//! The daily digest by e-mail, against a small SMTP server written here (nothing to install): an
//! opted-in person with waiting work gets one mail a day in their language with their items and
//! links; nobody else gets one; a refused send gives the day back for a later tick, a bounded
//! number of times; and the settings refuse what is not an address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use unionflow::digest::config::{MailArgs, TlsMode};
use unionflow::digest::{MailConfig, Mailer, Tick, tick};

use crate::on_both_backends;
use crate::support::{Backend, data};
use crate::web::{Web, admin, en, zh};

on_both_backends! {
    an_opted_in_person_gets_one_digest_a_day_in_their_language => an_opted_in_person_gets_one_digest_a_day_in_their_language;
    a_refused_send_is_tried_again_on_a_later_tick_a_bounded_number_of_times => a_refused_send_is_tried_again_on_a_later_tick_a_bounded_number_of_times;
    the_settings_refuse_what_is_not_an_address => the_settings_refuse_what_is_not_an_address;
    a_digest_gives_each_items_deadline => a_digest_gives_each_items_deadline;
}

// ---- a local SMTP sink ---------------------------------------------------------------------

/// One message as the sink received it.
#[derive(Debug)]
struct Received {
    to: Vec<String>,
    data: String,
}

/// Just enough SMTP to take mail (220, EHLO/HELO, MAIL, RCPT, DATA … `.`, RSET, NOOP, QUIT),
/// handing each message to the test; while `refuse` is set it answers MAIL with 554.
struct Sink {
    addr: SocketAddr,
    mail: mpsc::UnboundedReceiver<Received>,
    refuse: Arc<AtomicBool>,
}

impl Sink {
    async fn start() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the sink");
        let addr = listener.local_addr().expect("the sink's address");
        let (tx, mail) = mpsc::unbounded_channel();
        let refuse = Arc::new(AtomicBool::new(false));
        let refusing = refuse.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, tx.clone(), refusing.clone()));
            }
        });
        Sink { addr, mail, refuse }
    }

    /// The messages received so far (every send has had its answer before a tick returns).
    fn received(&mut self) -> Vec<Received> {
        let mut out = Vec::new();
        while let Ok(m) = self.mail.try_recv() {
            out.push(m);
        }
        out
    }
}

async fn session(socket: tokio::net::TcpStream, tx: mpsc::UnboundedSender<Received>, refuse: Arc<AtomicBool>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    say(&mut write, "220 sink ESMTP").await;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            say(&mut write, "250 sink").await;
        } else if command.starts_with("MAIL FROM") {
            if refuse.load(Ordering::SeqCst) {
                say(&mut write, "554 5.7.1 refused by the test").await;
            } else {
                to.clear();
                say(&mut write, "250 OK").await;
            }
        } else if command.starts_with("RCPT TO") {
            let addr = line.trim_end()[8..].trim().trim_start_matches('<').trim_end_matches('>').to_owned();
            to.push(addr);
            say(&mut write, "250 OK").await;
        } else if command == "DATA" {
            say(&mut write, "354 go on").await;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let _ = tx.send(Received { to: std::mem::take(&mut to), data });
            say(&mut write, "250 OK queued").await;
        } else if command == "QUIT" {
            say(&mut write, "221 bye").await;
            return;
        } else if command == "RSET" || command == "NOOP" {
            say(&mut write, "250 OK").await;
        } else {
            say(&mut write, "502 not here").await;
        }
    }
}

async fn say(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
    let _ = w.write_all(format!("{text}\r\n").as_bytes()).await;
}

// ---- reading a received message ------------------------------------------------------------

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    sextets
        .chunks(4)
        .flat_map(|c| {
            let n = c.iter().enumerate().fold(0u32, |n, (i, s)| n | (u32::from(*s) << (18 - 6 * i)));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(c.len().saturating_sub(1))
        })
        .collect()
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The message's parts, by content type, decoded.
fn parts(data: &str) -> Vec<(String, String)> {
    let boundary = data
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a multipart message")
        .to_owned();
    data.split(&format!("--{boundary}"))
        .skip(1)
        .filter_map(|chunk| {
            let (head, body) = chunk.split_once("\r\n\r\n")?;
            let head = head.to_ascii_lowercase();
            let kind = head.lines().find_map(|l| l.strip_prefix("content-type: "))?.to_owned();
            let decoded = if head.contains("content-transfer-encoding: base64") {
                base64(body)
            } else if head.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body)
            } else {
                body.as_bytes().to_vec()
            };
            Some((kind, String::from_utf8(decoded).expect("UTF-8 text")))
        })
        .collect()
}

fn text_of(m: &Received) -> String {
    parts(&m.data).into_iter().find(|(k, _)| k.starts_with("text/plain")).expect("a plain-text part").1
}

fn html_of(m: &Received) -> String {
    parts(&m.data).into_iter().find(|(k, _)| k.starts_with("text/html")).expect("an HTML part").1
}

// ---- the app ---------------------------------------------------------------------------------

const SITE: &str = "https://uf.example.org";

fn mail_config(sink: &Sink, hour: u8) -> MailConfig {
    MailArgs {
        smtp_host: Some(sink.addr.ip().to_string()),
        smtp_port: Some(sink.addr.port()),
        smtp_tls: Some(TlsMode::None),
        mail_from: Some("unionflow <noreply@example.org>".into()),
        public_url: Some(SITE.into()),
        digest_hour: hour,
        ..Default::default()
    }
    .config_with_password(None)
    .expect("valid settings")
    .expect("an SMTP host is set")
}

/// u01 has an assembly waiting for its secretaries; u02 has nothing. chen.jing (English) and li.na
/// (the default, Chinese) asked for the digest, on their own page and from the admin's;
/// wang.wei gave an address but did not ask; zhao.lei asked, with nothing waiting.
async fn app(backend: Backend) -> (Web, i64) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.people(&[
        ("root", &["admin"]),
        ("chen.jing", &["unit_secretary@u01"]),
        ("li.na", &["unit_secretary@u01"]),
        ("wang.wei", &["unit_secretary@u01"]),
        ("zhao.lei", &["unit_secretary@u02"]),
    ])
    .await;
    let id = web
        .rt()
        .start("assembly_approval", &admin(), &data(json!({ "unit": "u01", "draft_version": 1 })))
        .await
        .unwrap();
    for (who, email, digest, lang) in [
        ("chen.jing", "chen.jing@example.org", true, "en"),
        ("wang.wei", "wang.wei@example.org", false, "zh-CN"),
        ("zhao.lei", "zhao.lei@example.org", true, "zh-CN"),
    ] {
        let mut b = web.browser();
        b.sign_in(who).await;
        let csrf = b.csrf().await;
        let mut form = vec![("_csrf", csrf.as_str()), ("email", email), ("lang", lang)];
        if digest {
            form.push(("digest", "on"));
        }
        let saved = b.post("/settings", &form).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{who}: {}", saved.body);
    }
    let mut root = web.browser();
    root.sign_in("root").await;
    let csrf = root.csrf().await;
    let li_na = web.count("SELECT id AS n FROM users WHERE username = 'li.na'").await;
    let set = root
        .post(
            &format!("/admin/users/{li_na}/mail"),
            &[("_csrf", &csrf), ("email", "li.na@example.org"), ("digest", "on")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    (web, id)
}

async fn an_opted_in_person_gets_one_digest_a_day_in_their_language(backend: Backend) {
    let (web, id) = app(backend).await;
    let mut sink = Sink::start().await;
    let rt = web.rt();

    // The test clock stands at 09:00: before the hour set, nothing goes out.
    let late = mail_config(&sink, 10);
    assert_eq!(tick(rt, &late, &Mailer::new(&late).unwrap()).await.unwrap(), Tick::default());
    assert!(sink.received().is_empty());

    let config = mail_config(&sink, 7);
    let mailer = Mailer::new(&config).unwrap();
    let done = tick(rt, &config, &mailer).await.unwrap();
    assert_eq!(done, Tick { sent: 2, nothing: 1, failed: 0 }, "two with work; zhao.lei has nothing waiting");
    let mut mails = sink.received();
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    let to: Vec<&[String]> = mails.iter().map(|m| m.to.as_slice()).collect();
    assert_eq!(to, [["chen.jing@example.org"], ["li.na@example.org"]], "not wang.wei (no opt-in), not zhao.lei");

    let link = format!("{SITE}/instances/{id}");
    let english = text_of(&mails[0]);
    assert!(english.contains("Hello CHEN JING,"), "{english}");
    assert!(english.contains(en().t("digest.intro")), "{english}");
    assert!(english.contains("Unit u01") && english.contains(&link), "the assembly and its link: {english}");
    assert!(english.contains(&format!("{SITE}/settings")), "where to turn it off: {english}");
    assert!(html_of(&mails[0]).contains(&format!("<a href=\"{link}\">")), "the HTML part links the item");
    assert!(mails[0].data.contains("Message-ID: <digest."), "{}", mails[0].data);

    let chinese = text_of(&mails[1]);
    assert!(chinese.contains("LI NA，您好："), "{chinese}");
    assert!(
        chinese.contains(zh().t("digest.intro")) && chinese.contains("单位u01") && chinese.contains(&link),
        "{chinese}"
    );

    // A second run the same day, or another server process, sends nothing.
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick::default());
    let other = unionflow::runtime::Runtime::new(
        web.db.reconnect().await,
        crate::web::embedded(),
        web.clock.clone(),
        time::macros::offset!(+8),
    )
    .await
    .unwrap();
    assert_eq!(tick(&other, &config, &mailer).await.unwrap(), Tick::default());
    assert!(sink.received().is_empty(), "once a day");

    // The next day the work still waits: one mail each again.
    web.clock.advance(time::Duration::days(1));
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick { sent: 2, nothing: 1, failed: 0 });
    assert_eq!(sink.received().len(), 2);

    // Nothing waiting: no mail.
    web.fire(id, &admin(), "withdraw", json!({ "withdrawal_reason": "重新协商" })).await;
    web.clock.advance(time::Duration::days(1));
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick { sent: 0, nothing: 3, failed: 0 });
    assert!(sink.received().is_empty());
}

async fn a_refused_send_is_tried_again_on_a_later_tick_a_bounded_number_of_times(backend: Backend) {
    let (web, _) = app(backend).await;
    let mut sink = Sink::start().await;
    let rt = web.rt();
    let config = mail_config(&sink, 7);
    let mailer = Mailer::new(&config).unwrap();
    let claimed = "SELECT COUNT(*) AS n FROM users WHERE last_digest = '2026-03-02'";

    sink.refuse.store(true, Ordering::SeqCst);
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick { sent: 0, nothing: 1, failed: 2 });
    assert_eq!(web.count(claimed).await, 1, "only zhao.lei's day (nothing to send) stays claimed");
    sink.refuse.store(false, Ordering::SeqCst);
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick { sent: 2, nothing: 0, failed: 0 }, "tried again");
    assert_eq!(sink.received().len(), 2);
    assert_eq!(web.count(claimed).await, 3);

    // A server that refuses all day is given up on for the day after a few tries; the next day
    // starts afresh.
    web.clock.advance(time::Duration::days(1));
    sink.refuse.store(true, Ordering::SeqCst);
    for _ in 0..unionflow::digest::run::MAX_TRIES {
        assert_eq!(tick(rt, &config, &mailer).await.unwrap().failed, 2);
    }
    assert_eq!(tick(rt, &config, &mailer).await.unwrap(), Tick::default(), "given up on for today");
    web.clock.advance(time::Duration::days(1));
    sink.refuse.store(false, Ordering::SeqCst);
    assert_eq!(tick(rt, &config, &mailer).await.unwrap().sent, 2);
    assert_eq!(sink.received().len(), 2);
}

async fn the_settings_refuse_what_is_not_an_address(backend: Backend) {
    let (web, _) = app(backend).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(zh().t("settings.no_smtp")), "no SMTP configured here: the page says so");
    assert_eq!(page.field("email").as_deref(), Some("wang.wei@example.org"));

    let long = format!("{}@example.org", "a".repeat(300));
    for (email, digest, problem) in [
        ("not an address", "", zh().t("settings.problem.not_an_address").to_owned()),
        ("wang@localhost", "", zh().t("settings.problem.not_an_address").to_owned()),
        ("x@example.org\r\nBcc: y@example.org", "", zh().t("settings.problem.not_an_address").to_owned()),
        (long.as_str(), "", zh().f("settings.problem.too_long", &[("max", "254".into())])),
        ("", "on", zh().t("settings.problem.digest_without_address").to_owned()),
    ] {
        let csrf = b.csrf().await;
        let refused = b.post("/settings", &[("_csrf", &csrf), ("email", email), ("digest", digest)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{email:?}");
        assert!(refused.body.contains(&problem), "{email:?}: {}", refused.body);
    }
    assert_eq!(
        web.count("SELECT COUNT(*) AS n FROM users WHERE username = 'wang.wei' AND email = 'wang.wei@example.org' AND NOT digest")
            .await,
        1,
        "nothing refused was stored"
    );
    // The changes that were made are in the audit trail, the chain intact.
    assert_eq!(
        web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'account' AND event = 'set_mail'").await,
        3
    );
    assert_eq!(
        web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'admin' AND event = 'set_mail'").await,
        1
    );
    assert!(web.verify().await.broken.is_none());
}

async fn a_digest_gives_each_items_deadline(backend: Backend) {
    let offer = unionflow::web::DigestOffer { hour: 7 };
    let config = unionflow::web::WebConfig { digest: Some(offer), ..crate::web::quick_config() };
    let web = Web::new(backend, crate::web::embedded(), config).await;
    web.negotiators().await;
    let round = web.round(&["u01"], crate::web::RoundAt::Requested).await;
    let mut b = web.browser();
    b.sign_in("sun.li").await;
    let page = b.get("/settings").await;
    let hint = zh().f("settings.digest_hint", &[("hour", "07:00".into()), ("max", "200".into())]);
    assert!(page.body.contains(&hint), "with SMTP configured the page says when and how much: {}", page.body);
    let csrf = b.csrf().await;
    let form = [("_csrf", csrf.as_str()), ("email", "sun.li@example.org"), ("digest", "on"), ("lang", "en")];
    assert_eq!(b.post("/settings", &form).await.status, StatusCode::SEE_OTHER);

    let mut sink = Sink::start().await;
    let config = mail_config(&sink, 7);
    assert_eq!(tick(web.rt(), &config, &Mailer::new(&config).unwrap()).await.unwrap().sent, 1);
    let mail = sink.received();
    let text = text_of(&mail[0]);
    // The employer side answers the request in writing within 20 days.
    assert!(text.contains(&format!("{SITE}/instances/{round}")), "{text}");
    assert!(text.contains("Deadline 2026-03-") && text.contains(" days left)"), "the reply's deadline: {text}");
}
