//! Reading a trainee list from CSV. The whole file is checked first: every bad row is reported
//! with its line and reason, and nothing is taken until the file is clean (or the coordinator
//! chooses to take the valid rows only).

use std::collections::BTreeSet;

/// The largest file accepted: a cohort of thousands fits in far less.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// The columns, in order, by their English or Chinese names.
pub(crate) const COLUMNS: [(&str, &str); 5] = [
    ("name", "姓名"),
    ("employer", "工作单位"),
    ("trade", "工种"),
    ("skill_level", "技能等级"),
    ("contact", "联系方式"),
];

/// The skill levels of the national vocational qualification, lowest first.
pub const SKILL_LEVELS: [&str; 5] = ["初级工", "中级工", "高级工", "技师", "高级技师"];

/// A trainee as a valid row gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraineeRow {
    pub line: usize,
    pub name: String,
    pub employer: String,
    pub trade: String,
    pub skill_level: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{0} is too long")]
    TooLong(&'static str),
    #[error("the skill level {0:?} is not one of 初级工, 中级工, 高级工, 技师, 高级技师")]
    SkillLevel(String),
    #[error("the contact {0:?} is neither an 11-digit mobile number nor an e-mail address")]
    Contact(String),
    #[error("has {found} columns, not 5")]
    Columns { found: usize },
    #[error("repeats the trainee of line {0} (same name and contact)")]
    Duplicate(usize),
    #[error("{0} is already enrolled in this cohort")]
    AlreadyEnrolled(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RowError {
    pub line: usize,
    pub problem: RowProblem,
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MB", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the file is not UTF-8 text (save it as CSV UTF-8)")]
    NotUtf8,
    #[error(
        "the first line must name the columns name, employer, trade, skill_level, contact (or 姓名, 工作单位, 工种, 技能等级, 联系方式); it has {0}"
    )]
    Header(String),
    #[error("the file has a header but no trainees")]
    NoRows,
}

/// The outcome of checking a file: the valid rows and every problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub rows: Vec<TraineeRow>,
    pub errors: Vec<RowError>,
}

fn contact_ok(c: &str) -> bool {
    let mobile = c.len() == 11 && c.starts_with('1') && c.bytes().all(|b| b.is_ascii_digit());
    let email = c
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !c.contains(char::is_whitespace));
    mobile || email
}

fn text(value: Option<&str>, what: &'static str, max: usize) -> Result<String, RowProblem> {
    let v = value.unwrap_or_default().trim();
    if v.is_empty() {
        return Err(RowProblem::Empty(what));
    }
    if v.chars().count() > max {
        return Err(RowProblem::TooLong(what));
    }
    Ok(v.to_owned())
}

/// Checks a whole file; `enrolled` holds the (name, contact) pairs the cohort already has.
pub fn check(bytes: &[u8], enrolled: &BTreeSet<(String, String)>) -> Result<Checked, FileProblem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileProblem::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileProblem::TooLarge);
    }
    let text_in = std::str::from_utf8(bytes).map_err(|_| FileProblem::NotUtf8)?;
    let text_in = text_in.strip_prefix('\u{feff}').unwrap_or(text_in);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text_in.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(FileProblem::Empty),
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let header_ok = names.len() == COLUMNS.len() && names.iter().zip(COLUMNS).all(|(n, (en, zh))| n == en || n == zh);
    if !header_ok {
        return Err(FileProblem::Header(names.join(", ")));
    }
    let mut checked = Checked::default();
    let mut seen: std::collections::BTreeMap<(String, String), usize> = std::collections::BTreeMap::new();
    for (index, record) in records.enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                checked.errors.push(RowError { line, problem: RowProblem::Columns { found: 0 } });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != COLUMNS.len() {
            checked.errors.push(RowError { line, problem: RowProblem::Columns { found: record.len() } });
            continue;
        }
        let row = (|| {
            let name = text(record.get(0), "the name", 60)?;
            let employer = text(record.get(1), "the employer", 120)?;
            let trade = text(record.get(2), "the trade", 60)?;
            let skill_level = text(record.get(3), "the skill level", 10)?;
            if !SKILL_LEVELS.contains(&skill_level.as_str()) {
                return Err(RowProblem::SkillLevel(skill_level));
            }
            let contact = text(record.get(4), "the contact", 100)?;
            if !contact_ok(&contact) {
                return Err(RowProblem::Contact(contact));
            }
            let key = (name.clone(), contact.clone());
            if enrolled.contains(&key) {
                return Err(RowProblem::AlreadyEnrolled(name));
            }
            if let Some(first) = seen.get(&key) {
                return Err(RowProblem::Duplicate(*first));
            }
            seen.insert(key, line);
            Ok(TraineeRow { line, name, employer, trade, skill_level, contact })
        })();
        match row {
            Ok(r) => checked.rows.push(r),
            Err(problem) => checked.errors.push(RowError { line, problem }),
        }
    }
    if checked.rows.is_empty() && checked.errors.is_empty() {
        return Err(FileProblem::NoRows);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "姓名,工作单位,工种,技能等级,联系方式\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n李娜,海淀职业学校,电工,技师,li.na@example.cn\n";

    #[test]
    fn a_clean_file_gives_every_trainee_with_its_line() {
        let c = check(GOOD.as_bytes(), &BTreeSet::new()).unwrap();
        assert!(c.errors.is_empty());
        assert_eq!(c.rows.len(), 2);
        assert_eq!((c.rows[1].line, c.rows[1].name.as_str()), (3, "李娜"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let file = format!(
            "{GOOD}王五,,钳工,高级工,13900000000\n赵六,厂,钳工,大师,13900000001\n孙七,厂,钳工,技师,12345\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n周八,厂\n"
        );
        let c = check(file.as_bytes(), &BTreeSet::new()).unwrap();
        let lines: Vec<(usize, String)> = c.errors.iter().map(|e| (e.line, e.problem.to_string())).collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0], (4, "the employer is empty".to_owned()));
        assert!(lines[1].1.contains("大师"));
        assert!(lines[2].1.contains("12345"));
        assert_eq!(lines[3], (7, "repeats the trainee of line 2 (same name and contact)".to_owned()));
        assert_eq!(lines[4], (8, "has 2 columns, not 5".to_owned()));
        assert_eq!(c.rows.len(), 2, "the valid rows are still there, to take if the coordinator chooses");
    }

    #[test]
    fn unreadable_files_are_refused_whole() {
        assert_eq!(check(b"", &BTreeSet::new()), Err(FileProblem::Empty));
        assert_eq!(check(b"\xff\xfe\x00n\x00a", &BTreeSet::new()), Err(FileProblem::NotUtf8));
        assert!(matches!(check("name,trade\nx,y\n".as_bytes(), &BTreeSet::new()), Err(FileProblem::Header(_))));
        assert_eq!(
            check("name,employer,trade,skill_level,contact\n".as_bytes(), &BTreeSet::new()),
            Err(FileProblem::NoRows)
        );
        let huge = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(check(&huge, &BTreeSet::new()), Err(FileProblem::TooLarge));
    }

    #[test]
    fn trainees_already_in_the_cohort_are_not_taken_twice() {
        let enrolled = BTreeSet::from([("张伟".to_owned(), "13800138000".to_owned())]);
        let c = check(GOOD.as_bytes(), &enrolled).unwrap();
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.errors[0].problem, RowProblem::AlreadyEnrolled("张伟".into()));
    }
}
