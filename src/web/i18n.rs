//! Languages: Simplified Chinese by default, English on request. Every user-facing string comes
//! from `locales/*.toml` (or, for process labels, from the definitions).

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh-CN" | "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

type Strings = HashMap<String, String>;

fn parse(text: &str) -> Strings {
    toml::from_str::<HashMap<String, String>>(text).unwrap_or_default()
}

fn locale(lang: Lang) -> &'static Strings {
    static ZH: OnceLock<Strings> = OnceLock::new();
    static EN: OnceLock<Strings> = OnceLock::new();
    match lang {
        Lang::Zh => ZH.get_or_init(|| parse(include_str!("../../locales/zh-CN.toml"))),
        Lang::En => EN.get_or_init(|| parse(include_str!("../../locales/en.toml"))),
    }
}

/// The translator a page renders with.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The text of `key`; the key itself if a locale lacks it (a test keeps them complete).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        locale(self.lang).get(key).map_or(key, String::as_str)
    }

    /// The text of `key` with `{name}` placeholders filled.
    pub fn f(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut text = locale(self.lang).get(key).cloned().unwrap_or_else(|| key.to_owned());
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn both_locales_have_the_same_keys() {
        let zh = locale(Lang::Zh);
        let en = locale(Lang::En);
        assert!(zh.len() > 100, "the Chinese locale parsed");
        let mut missing: Vec<_> =
            zh.keys().filter(|k| !en.contains_key(*k)).chain(en.keys().filter(|k| !zh.contains_key(*k))).collect();
        missing.sort();
        assert!(missing.is_empty(), "keys in one locale only: {missing:?}");
    }

    #[test]
    fn both_locales_fill_the_same_placeholders() {
        let names = |text: &str| {
            let mut names: Vec<String> =
                text.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name.to_owned()).collect();
            names.sort();
            names
        };
        let en = locale(Lang::En);
        let mut differ: Vec<_> = locale(Lang::Zh)
            .iter()
            .filter(|(key, zh)| en.get(*key).is_some_and(|en| names(en) != names(zh)))
            .map(|(key, _)| key)
            .collect();
        differ.sort();
        assert!(differ.is_empty(), "placeholders differ between the locales: {differ:?}");
    }

    /// The endings of file names that look like keys.
    const FILE_TYPES: [&str; 7] = ["html", "csv", "toml", "css", "svg", "png", "xml"];

    /// Whether `s` has the shape of a key: lower-case words joined by dots.
    fn is_key(s: &str) -> bool {
        let word =
            |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        s.contains('.') && s.starts_with(|c: char| c.is_ascii_lowercase()) && s.split('.').all(word)
    }

    /// Where keys are used: the code without its tests (a key that only a test names is dead),
    /// the templates, and the built-in definitions.
    fn sources() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src"), root.join("templates"), root.join("workflows")];
        let mut out = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if !path.extension().is_some_and(|e| e == "rs" || e == "html" || e == "toml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(tests) => text[..tests].to_owned(),
                    None => text,
                };
                out.push((path.strip_prefix(root).unwrap_or(&path).display().to_string(), text));
            }
        }
        assert!(out.len() > 50, "the sources were found: {}", out.len());
        out
    }

    /// Every string literal in `text` that has the shape of a key, with the text before it.
    fn key_literals(text: &str) -> Vec<(&str, &str)> {
        text.match_indices('"')
            .filter_map(|(i, _)| {
                let rest = &text[i + 1..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))?;
                (rest[end..].starts_with('"') && is_key(&rest[..end])).then(|| (&text[..i], &rest[..end]))
            })
            .collect()
    }

    /// The prefixes of keys built at run time: `format!("kind.{}", ...)` gives `kind.`.
    fn built_prefixes(text: &str) -> Vec<&str> {
        text.match_indices("format!(\"")
            .filter_map(|(i, m)| {
                let rest = &text[i + m.len()..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))?;
                let prefix = &rest[..end];
                (rest[end..].starts_with('{') && prefix.ends_with('.') && is_key(&format!("{prefix}x")))
                    .then_some(prefix)
            })
            .collect()
    }

    /// The keys the code builds at run time, by prefix, each with every value that completes it,
    /// taken from where those values come from.
    fn built_keys() -> Vec<(&'static str, Vec<String>)> {
        use crate::definition::{Label, Outcome, Threshold, VoteBase, VoteCheck, VoteRule};
        use crate::engine::{VoteCounts, count_vote};
        // Each enum whole: a new variant stops these matches compiling until it is listed here.
        let outcomes = [Outcome::Passed, Outcome::Failed].map(|o| match o {
            Outcome::Passed | Outcome::Failed => o.as_str().to_owned(),
        });
        let checks = [VoteCheck::Passed, VoteCheck::Failed, VoteCheck::NoQuorum].map(|c| match c {
            VoteCheck::Passed | VoteCheck::Failed | VoteCheck::NoQuorum => c.as_str().to_owned(),
        });
        // The reasons a count gives, from counting: too few present, too few in favour, passed.
        let half = |strict| Threshold { strict, share: "1/2".parse().expect("a fraction"), of: VoteBase::Roster };
        let rule = VoteRule {
            label: Label { zh: String::new(), en: String::new() },
            quorum: half(false),
            pass: half(true),
            wording: None,
        };
        let reasons = [(4, 4), (10, 5), (10, 6)].map(|(present, yes)| {
            let counts = VoteCounts { roster: 10, present, yes, no: present - yes, abstain: 0 };
            count_vote(&rule, counts).expect("possible counts").reason
        });
        // Every kind of event is named in the reader's language on the audit trail.
        let kinds = crate::web::audit::KINDS.iter().map(|k| (*k).to_owned());
        // A bad row names its column: "the skill level" is `import.col.skill_level`.
        let columns = crate::training::import::COLUMNS.iter().map(|(en, _)| (*en).to_owned());
        // Skill levels are named by their id: `skill.senior`.
        let levels = crate::training::import::SkillLevel::ALL.iter().map(|l| l.id().to_owned());
        vec![
            ("instance.outcome.", outcomes.into()),
            ("vote.check.", checks.into()),
            ("instance.vote.reason.", reasons.into()),
            ("kind.", kinds.collect()),
            ("import.col.", columns.collect()),
            ("skill.", levels.collect()),
        ]
    }

    #[test]
    fn every_key_used_is_in_both_locales_and_every_key_is_used() {
        let (zh, en) = (locale(Lang::Zh), locale(Lang::En));
        let namespaces: BTreeSet<&str> = zh.keys().chain(en.keys()).filter_map(|k| k.split('.').next()).collect();
        // Each key used, with the first file that uses it.
        let mut used: BTreeMap<String, String> = BTreeMap::new();
        let mut prefixes = BTreeSet::new();
        for (file, text) in sources() {
            for (before, key) in key_literals(&text) {
                // `tr.t("key")`, `tr.f("key", ..)`, `chrome.t("key")`: whatever its namespace.
                let looked_up = before
                    .trim_end()
                    .strip_suffix('(')
                    .and_then(|b| b.strip_suffix('t').or_else(|| b.strip_suffix('f')))
                    .is_some_and(|b| b.ends_with('.'));
                // Anywhere else, a key passed on to be looked up (`message_key: "error.404"`),
                // unless it names a file (a template's "work.html", a download's "audit.csv").
                let namespaced = key.split('.').next().is_some_and(|n| namespaces.contains(n));
                let names_a_file = key.rsplit('.').next().is_some_and(|ext| FILE_TYPES.contains(&ext));
                if looked_up || (namespaced && !names_a_file) {
                    used.entry(key.to_owned()).or_insert_with(|| file.clone());
                }
            }
            prefixes.extend(built_prefixes(&text).into_iter().map(str::to_owned));
        }
        let built = built_keys();
        let declared: BTreeSet<String> = built.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(prefixes, declared, "every key built with format! is declared in built_keys, with its values");
        for (prefix, values) in built {
            assert!(!values.is_empty(), "{prefix}: no values");
            for v in values {
                used.entry(format!("{prefix}{v}")).or_insert_with(|| format!("format!(\"{prefix}{{..}}\")"));
            }
        }
        assert!(used.len() > 200, "the keys in use were found: {}", used.len());

        for (name, strings) in [("zh-CN", zh), ("en", en)] {
            let missing: Vec<String> = used
                .iter()
                .filter(|(k, _)| !strings.contains_key(*k))
                .map(|(k, file)| format!("{k} ({file})"))
                .collect();
            assert!(missing.is_empty(), "used but not in locales/{name}.toml: {missing:?}");
        }
        let dead: BTreeSet<&String> = zh.keys().chain(en.keys()).filter(|k| !used.contains_key(*k)).collect();
        assert!(dead.is_empty(), "in the locales but used nowhere: {dead:?}");
    }

    #[test]
    fn the_key_scanner_finds_keys_where_the_code_puts_them() {
        let code = r#"tr.f(
            "guard.vote", &[]); x.t("nav.work"); let k = "error.404"; format!("kind.{}", k); "a"; "wang.wei""#;
        let keys: Vec<&str> = key_literals(code).into_iter().map(|(_, k)| k).collect();
        assert_eq!(keys, ["guard.vote", "nav.work", "error.404", "wang.wei"]);
        assert_eq!(built_prefixes(code), ["kind."]);
        assert!(is_key("import.col.skill_level") && !is_key("work.Title") && !is_key("app") && !is_key("a..b"));
    }

    #[test]
    fn placeholders_are_filled() {
        let tr = Tr::new(Lang::En);
        assert_eq!(tr.f("deadline.days_left", &[("days", "3".into())]), "3 days left");
        assert_eq!(Tr::new(Lang::Zh).t("nav.work"), "我的待办");
    }
}
