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
    fn placeholders_are_filled() {
        let tr = Tr::new(Lang::En);
        assert_eq!(tr.f("deadline.days_left", &[("days", "3".into())]), "3 days left");
        assert_eq!(Tr::new(Lang::Zh).t("nav.work"), "我的待办");
    }
}
