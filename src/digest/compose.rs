//! One person's digest: what waits for them (the rule of "my work", [`crate::work`]) and the
//! unseen mentions, worded in their language with deadlines and links, as plain text and HTML.

use askama::Template;
use time::OffsetDateTime;

use crate::engine::Actor;
use crate::runtime::{Runtime, RuntimeError};
use crate::web::i18n::Tr;
use crate::web::state::Directory;
use crate::web::view::{deadline_text, fmt_time, provisional_note};

/// The most items one digest lists; past it the mail says how many more there are.
pub const MAX_ITEMS: usize = 200;

/// One line of the digest.
pub struct Item {
    pub title: String,
    /// Process · state, or who mentioned the person and when.
    pub what: String,
    /// What the person may do, when it is work.
    pub actions: Option<String>,
    pub deadline: Option<String>,
    pub escalated: bool,
    pub link: String,
}

/// What the digest is made from, worded and bounded.
pub struct Content {
    pub mentions: Vec<Item>,
    pub work: Vec<Item>,
    /// How many items were left out past [`MAX_ITEMS`].
    pub cut: usize,
}

impl Content {
    pub fn len(&self) -> usize {
        self.mentions.len() + self.work.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What waits for `actor` (named `username`), worded in `tr`'s language; links start at `base`.
pub async fn content(
    rt: &Runtime,
    directory: &Directory,
    actor: &Actor,
    tr: &Tr,
    now: OffsetDateTime,
    base: &str,
) -> Result<Content, RuntimeError> {
    let (lang, offset) = (tr.code(), rt.offset());
    let namer = || crate::web::process::namer(directory, lang);
    let link = |id: i64| format!("{base}/instances/{id}");
    let mut mentions = Vec::new();
    for (m, inst) in crate::work::mentions_of(rt, actor, &actor.name).await? {
        let who = directory.people.get(&m.mentioned_by).cloned().unwrap_or(m.mentioned_by);
        let when = fmt_time(crate::clock::from_micros(m.at), offset);
        mentions.push(Item {
            title: inst.definition.title_named(&inst.row.data, lang, namer()),
            what: tr.f("work.mentioned_by", &[("who", who), ("when", when)]),
            actions: None,
            deadline: None,
            escalated: false,
            link: link(m.instance_id),
        });
    }
    let mut work = Vec::new();
    for w in crate::work::waiting_for(rt, actor).await? {
        let def = &w.definition;
        let state = def.state(&w.row.state).map_or(w.row.state.as_str(), |s| s.label.get(lang));
        let actions: Vec<&str> = w.allowed.iter().map(|e| def.event_label(e, lang)).collect();
        let deadline = w.due.map(|due| {
            let (left, _) = deadline_text(tr, due, now);
            let mut text = tr.f("digest.deadline", &[("date", fmt_time(due, offset)), ("left", left)]);
            if let Some(note) = provisional_note(tr, &w.due_provisional) {
                text = format!("{text} ({note})");
            }
            text
        });
        work.push(Item {
            title: def.title_named(&w.row.data, lang, namer()),
            what: format!("{} · {state}", def.label.get(lang)),
            actions: (!actions.is_empty())
                .then(|| tr.f("digest.actions", &[("actions", actions.join(tr.t("punct.list")))])),
            deadline,
            escalated: w.escalated,
            link: link(w.row.id),
        });
    }
    let total = mentions.len() + work.len();
    mentions.truncate(MAX_ITEMS);
    work.truncate(MAX_ITEMS - mentions.len());
    Ok(Content { cut: total - mentions.len() - work.len(), mentions, work })
}

/// The digest as mail: subject, plain text, HTML.
pub struct Written {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "digest_mail.html")]
struct Html<'a> {
    tr: &'a Tr,
    subject: &'a str,
    greeting: String,
    c: &'a Content,
    cut: Option<String>,
    all: String,
    why: String,
}

/// Words the digest of `c` for the person called `name` on `day`.
pub fn write(tr: &Tr, name: &str, day: &str, c: &Content, base: &str) -> Result<Written, askama::Error> {
    let total = c.len() + c.cut;
    let subject = tr.f("digest.subject", &[("n", total.to_string()), ("day", day.to_owned())]);
    let greeting = tr.f("digest.greeting", &[("name", name.to_owned())]);
    let cut = (c.cut > 0).then(|| tr.f("digest.cut", &[("shown", c.len().to_string()), ("total", total.to_string())]));
    let all = tr.f("digest.all", &[("link", format!("{base}/"))]);
    let why = tr.f("digest.why", &[("link", format!("{base}/settings"))]);
    let text = plain(tr, &greeting, c, cut.as_deref(), &all, &why);
    let html = Html { tr, subject: &subject, greeting, c, cut, all, why }.render()?;
    Ok(Written { subject, text, html })
}

/// The plain-text part: a heading a section, each item's title, what it is, what to do, its
/// deadline and its link on lines of their own.
fn plain(tr: &Tr, greeting: &str, c: &Content, cut: Option<&str>, all: &str, why: &str) -> String {
    use std::fmt::Write;
    let mut out = format!("{greeting}\n\n{}\n", tr.t("digest.intro"));
    for (heading, items) in [(tr.t("work.mentions"), &c.mentions), (tr.t("work.title"), &c.work)] {
        if items.is_empty() {
            continue;
        }
        let _ = write!(out, "\n{heading}\n{}\n", "=".repeat(heading.chars().count().max(4)));
        for i in items {
            let _ = writeln!(out, "\n* {}", i.title);
            let escalated = if i.escalated { format!(" [{}]", tr.t("work.escalated")) } else { String::new() };
            let _ = writeln!(out, "  {}{escalated}", i.what);
            for line in [&i.actions, &i.deadline].into_iter().flatten() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  {}", i.link);
        }
    }
    if let Some(cut) = cut {
        let _ = write!(out, "\n{cut}\n");
    }
    let _ = write!(out, "\n{all}\n\n-- \n{why}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    #[test]
    fn a_digest_cut_at_its_limit_says_how_many_were_left_out() {
        let item = Item {
            title: "单位u01 1".into(),
            what: "Unit assembly approval · Draft received".into(),
            actions: None,
            deadline: None,
            escalated: true,
            link: "https://uf.example.org/instances/1".into(),
        };
        let c = Content { mentions: Vec::new(), work: vec![item], cut: 250 };
        let tr = Tr::new(Lang::En);
        let w = write(&tr, "LI NA", "2026-03-02", &c, "https://uf.example.org").expect("written");
        assert_eq!(w.subject, "unionflow: 251 waiting for you (2026-03-02)");
        let cut = tr.f("digest.cut", &[("shown", "1".into()), ("total", "251".into())]);
        assert!(w.text.contains(&cut) && w.html.contains(&cut), "{}", w.text);
        assert!(w.text.contains(tr.t("work.escalated")), "{}", w.text);
        // The HTML part escapes what came from people's data.
        let c =
            Content { work: vec![Item { title: "<b>x</b>".into(), ..c.work.into_iter().next().expect("one") }], ..c };
        let w = write(&tr, "<i>", "2026-03-02", &c, "https://uf.example.org").expect("written");
        assert!(!w.html.contains("<b>x</b>") && !w.html.contains("<i>"), "{}", w.html);
    }
}
