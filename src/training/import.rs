//! Reading a trainee list from CSV. The whole file is checked first: every bad row is reported
//! with its line and reason, and nothing is taken until the file is clean (or the coordinator
//! chooses to take the valid rows only). Files come as Excel saves them: UTF-8 (with or without a
//! byte-order mark) or, from Excel on Chinese Windows, GB18030 (GBK).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::str::FromStr;

/// The largest file accepted: a cohort of thousands fits in far less.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// The most trainees one file may hold: many cohorts' worth, while a file far beyond it is a
/// mistake (or an attack) that would only hold the database for one long import.
pub const MAX_ROWS: usize = 5_000;

/// The UTF-8 byte-order mark Excel puts before "CSV UTF-8".
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How an uploaded file's bytes are read as text, as the uploader chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileEncoding {
    /// UTF-8 when the bytes are valid UTF-8, otherwise GB18030: what Excel saves on Chinese
    /// Windows is one or the other.
    #[default]
    Detect,
    Utf8,
    /// GB18030, which includes GBK and GB2312.
    Gb18030,
}

/// An encoding the import does not read (a form sent something its choices do not offer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an encoding the import reads (auto, utf-8, gb18030)")]
pub struct UnknownEncoding(pub String);

impl FromStr for FileEncoding {
    type Err = UnknownEncoding;

    /// The values of the upload form's choice.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Detect),
            "utf-8" => Ok(Self::Utf8),
            "gb18030" => Ok(Self::Gb18030),
            other => Err(UnknownEncoding(other.to_owned())),
        }
    }
}

/// The columns, in order, by their English or Chinese names.
pub(crate) const COLUMNS: [(&str, &str); 5] = [
    ("name", "姓名"),
    ("employer", "工作单位"),
    ("trade", "工种"),
    ("skill_level", "技能等级"),
    ("contact", "联系方式"),
];

/// A level of the national vocational qualification (国家职业资格), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkillLevel {
    Junior,
    Intermediate,
    Senior,
    Technician,
    SeniorTechnician,
}

impl SkillLevel {
    pub const ALL: [SkillLevel; 5] =
        [Self::Junior, Self::Intermediate, Self::Senior, Self::Technician, Self::SeniorTechnician];

    /// The id a form sends and an English file may hold; the locale names it as `skill.<id>`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Junior => "junior",
            Self::Intermediate => "intermediate",
            Self::Senior => "senior",
            Self::Technician => "technician",
            Self::SeniorTechnician => "senior_technician",
        }
    }

    /// The level as recorded: its Chinese name, which the records written before English ids
    /// existed hold too, so old and new rows read alike.
    pub fn recorded(self) -> &'static str {
        match self {
            Self::Junior => "初级工",
            Self::Intermediate => "中级工",
            Self::Senior => "高级工",
            Self::Technician => "技师",
            Self::SeniorTechnician => "高级技师",
        }
    }

    /// A level as a person writes it: its Chinese name, its id, or its English name in any case
    /// ("Senior worker", "senior", "Senior technician", "senior-technician").
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let english = text.to_lowercase().replace([' ', '-'], "_");
        let english = english.strip_suffix("_worker").unwrap_or(&english);
        Self::ALL.into_iter().find(|l| l.recorded() == text || l.id() == english)
    }
}

/// A trainee as a valid row gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraineeRow {
    pub line: usize,
    pub name: String,
    pub employer: String,
    pub trade: String,
    pub skill_level: SkillLevel,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{0} is too long")]
    TooLong(&'static str),
    #[error(
        "the skill level {0:?} is not one of junior, intermediate, senior, technician, senior_technician (or 初级工, 中级工, 高级工, 技师, 高级技师)"
    )]
    SkillLevel(String),
    #[error("the contact {0:?} is neither an 11-digit mobile number nor an e-mail address")]
    Contact(String),
    #[error("has {found} columns, not 5")]
    Columns { found: usize },
    #[error("repeats the trainee of line {0} (same name and contact)")]
    Duplicate(usize),
    #[error("{0} is already enrolled in this cohort")]
    AlreadyEnrolled(String),
    /// NUL and the other C0 and C1 controls: no name or contact holds one, and some databases
    /// refuse them outright.
    #[error("{what} contains the control character U+{code:04X}")]
    Control { what: &'static str, code: u32 },
    /// Bidi overrides and zero-width characters: invisible, they make one name look like another.
    #[error("{what} contains the invisible or direction-changing character U+{code:04X}")]
    Hidden { what: &'static str, code: u32 },
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
    #[error("the file is not GB18030 (GBK) text")]
    NotGb18030,
    #[error("the file is neither UTF-8 nor GB18030 (GBK) text (save it as CSV UTF-8, or as CSV from Excel)")]
    Undecodable,
    #[error("the file has {found} trainees; at most {MAX_ROWS} are taken in one file")]
    TooManyRows { found: usize },
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

/// A cell's text: trimmed, bounded, with no control character and none of the invisible or
/// direction-changing characters that make one name look like another (the rule of every name).
fn text(value: Option<&str>, what: &'static str, max: usize) -> Result<String, RowProblem> {
    use crate::text::TextProblem;
    match crate::text::line(value.unwrap_or_default(), max) {
        Ok("") => Err(RowProblem::Empty(what)),
        Ok(v) => Ok(v.to_owned()),
        Err(TextProblem::Control(code)) => Err(RowProblem::Control { what, code }),
        Err(TextProblem::Deceptive(code)) => Err(RowProblem::Hidden { what, code }),
        Err(TextProblem::TooLong(_)) => Err(RowProblem::TooLong(what)),
    }
}

/// The file as text. UTF-8 is tried first when detecting, since nearly any bytes decode as
/// GB18030 but few that are not UTF-8 pass as UTF-8. A byte sequence the encoding does not have
/// refuses the file: a replacement character would carry a garbled name into the records. A
/// UTF-8 byte-order mark says the file is UTF-8 and never GB18030, whatever was chosen.
fn decode(bytes: &[u8], encoding: FileEncoding) -> Result<Cow<'_, str>, FileProblem> {
    let utf8 = || std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    let gb18030 = || encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes);
    match encoding {
        FileEncoding::Utf8 => utf8().ok_or(FileProblem::NotUtf8),
        FileEncoding::Gb18030 if bytes.starts_with(UTF8_BOM) => Err(FileProblem::NotGb18030),
        FileEncoding::Gb18030 => gb18030().ok_or(FileProblem::NotGb18030),
        FileEncoding::Detect if bytes.starts_with(UTF8_BOM) => utf8().ok_or(FileProblem::Undecodable),
        FileEncoding::Detect => utf8().or_else(gb18030).ok_or(FileProblem::Undecodable),
    }
}

/// A header as the refusal shows it, characters that would not show replaced.
fn shown(names: &[String]) -> String {
    names
        .join(", ")
        .chars()
        .map(|c| if c.is_control() || crate::text::is_deceptive(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// Checks a whole file, read in `encoding`; `enrolled` holds the (name, contact) pairs the cohort
/// already has.
pub fn check(
    bytes: &[u8],
    encoding: FileEncoding,
    enrolled: &BTreeSet<(String, String)>,
) -> Result<Checked, FileProblem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileProblem::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileProblem::TooLarge);
    }
    let decoded = decode(bytes, encoding)?;
    let text_in = decoded.strip_prefix('\u{feff}').unwrap_or(&decoded);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text_in.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(FileProblem::Empty),
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let header_ok = names.len() == COLUMNS.len() && names.iter().zip(COLUMNS).all(|(n, (en, zh))| n == en || n == zh);
    if !header_ok {
        return Err(FileProblem::Header(shown(&names)));
    }
    // Every record is read before any is checked, so a file past the limit is refused whole.
    let records: Vec<(usize, Result<csv::StringRecord, csv::Error>)> = records
        .enumerate()
        .map(|(index, record)| match record {
            Ok(r) => (r.position().and_then(|p| usize::try_from(p.line()).ok()).unwrap_or(index + 2), Ok(r)),
            Err(e) => (index + 2, Err(e)),
        })
        .filter(|(_, record)| !record.as_ref().is_ok_and(|r| r.iter().all(|f| f.trim().is_empty())))
        .collect();
    if records.len() > MAX_ROWS {
        return Err(FileProblem::TooManyRows { found: records.len() });
    }
    let mut checked = Checked::default();
    let mut seen: std::collections::BTreeMap<(String, String), usize> = std::collections::BTreeMap::new();
    for (line, record) in records {
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                checked.errors.push(RowError { line, problem: RowProblem::Columns { found: 0 } });
                continue;
            }
        };
        if record.len() != COLUMNS.len() {
            checked.errors.push(RowError { line, problem: RowProblem::Columns { found: record.len() } });
            continue;
        }
        let row = (|| {
            let name = text(record.get(0), "the name", 60)?;
            let employer = text(record.get(1), "the employer", 120)?;
            let trade = text(record.get(2), "the trade", 60)?;
            let typed = text(record.get(3), "the skill level", 40)?;
            let skill_level = SkillLevel::parse(&typed).ok_or(RowProblem::SkillLevel(typed))?;
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
        let c = check(GOOD.as_bytes(), FileEncoding::Detect, &BTreeSet::new()).unwrap();
        assert!(c.errors.is_empty());
        assert_eq!(c.rows.len(), 2);
        assert_eq!((c.rows[1].line, c.rows[1].name.as_str()), (3, "李娜"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let file = format!(
            "{GOOD}王五,,钳工,高级工,13900000000\n赵六,厂,钳工,大师,13900000001\n孙七,厂,钳工,技师,12345\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n周八,厂\n"
        );
        let c = check(file.as_bytes(), FileEncoding::Detect, &BTreeSet::new()).unwrap();
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
    fn skill_levels_are_read_in_either_language() {
        let file = "name,employer,trade,skill_level,contact\nAnna,Works,Welder,Senior worker,13900000001\nBo,Works,Welder,senior,13900000002\nCy,Works,Welder,Senior technician,13900000003\nDi,Works,Welder,技师,13900000004\nEd,Works,Welder,master,13900000005\n";
        let c = check(file.as_bytes(), FileEncoding::Detect, &BTreeSet::new()).unwrap();
        let levels: Vec<SkillLevel> = c.rows.iter().map(|r| r.skill_level).collect();
        assert_eq!(
            levels,
            [SkillLevel::Senior, SkillLevel::Senior, SkillLevel::SeniorTechnician, SkillLevel::Technician]
        );
        assert_eq!(c.errors[0].problem, RowProblem::SkillLevel("master".into()));
        for level in SkillLevel::ALL {
            assert_eq!(SkillLevel::parse(level.id()), Some(level));
            assert_eq!(SkillLevel::parse(level.recorded()), Some(level));
        }
    }

    #[test]
    fn unreadable_files_are_refused_whole() {
        let none = BTreeSet::new();
        assert_eq!(check(b"", FileEncoding::Detect, &none), Err(FileProblem::Empty));
        assert!(matches!(
            check("name,trade\nx,y\n".as_bytes(), FileEncoding::Detect, &none),
            Err(FileProblem::Header(_))
        ));
        assert_eq!(
            check("name,employer,trade,skill_level,contact\n".as_bytes(), FileEncoding::Detect, &none),
            Err(FileProblem::NoRows)
        );
        let huge = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(check(&huge, FileEncoding::Detect, &none), Err(FileProblem::TooLarge));
    }

    #[test]
    fn trainees_already_in_the_cohort_are_not_taken_twice() {
        let enrolled = BTreeSet::from([("张伟".to_owned(), "13800138000".to_owned())]);
        let c = check(GOOD.as_bytes(), FileEncoding::Detect, &enrolled).unwrap();
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.errors[0].problem, RowProblem::AlreadyEnrolled("张伟".into()));
    }

    fn gb18030(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn a_gb18030_file_with_chinese_names_imports() {
        let bytes = gb18030(GOOD);
        assert!(std::str::from_utf8(&bytes).is_err(), "the test file is really not UTF-8");
        for encoding in [FileEncoding::Detect, FileEncoding::Gb18030] {
            let c = check(&bytes, encoding, &BTreeSet::new()).unwrap();
            assert!(c.errors.is_empty(), "{encoding:?}: {:?}", c.errors);
            let names: Vec<(&str, &str)> = c.rows.iter().map(|r| (r.name.as_str(), r.employer.as_str())).collect();
            assert_eq!(names, [("张伟", "北京精工机械厂"), ("李娜", "海淀职业学校")], "{encoding:?}");
        }
        assert_eq!(check(&bytes, FileEncoding::Utf8, &BTreeSet::new()), Err(FileProblem::NotUtf8), "as chosen");
    }

    #[test]
    fn utf8_with_or_without_a_byte_order_mark_imports() {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat();
        for encoding in [FileEncoding::Detect, FileEncoding::Utf8] {
            for bytes in [GOOD.as_bytes(), with_bom.as_slice()] {
                assert_eq!(check(bytes, encoding, &BTreeSet::new()).unwrap().rows[0].name, "张伟");
            }
        }
        assert_eq!(
            check(&with_bom, FileEncoding::Gb18030, &BTreeSet::new()),
            Err(FileProblem::NotGb18030),
            "the mark says UTF-8, not the GB18030 chosen"
        );
        let broken = [with_bom.as_slice(), b"\xD5\xC5,x,y,z,w\n"].concat();
        assert_eq!(
            check(&broken, FileEncoding::Detect, &BTreeSet::new()),
            Err(FileProblem::Undecodable),
            "a broken UTF-8 file is not taken for GB18030 because of a few bytes"
        );
    }

    #[test]
    fn an_undecodable_file_is_refused_whole() {
        let none = BTreeSet::new();
        let utf16 = b"\xff\xfen\x00a\x00m\x00e\x00";
        assert_eq!(check(utf16, FileEncoding::Detect, &none), Err(FileProblem::Undecodable));
        assert_eq!(check(utf16, FileEncoding::Gb18030, &none), Err(FileProblem::NotGb18030));
        assert_eq!(check(utf16, FileEncoding::Utf8, &none), Err(FileProblem::NotUtf8));
        let mut broken = gb18030(GOOD);
        broken.extend(b"\xff\xff,x,y,z,w\n");
        assert_eq!(check(&broken, FileEncoding::Detect, &none), Err(FileProblem::Undecodable), "not one row is taken");
    }

    #[test]
    fn the_form_choice_parses_into_an_encoding() {
        assert_eq!("auto".parse::<FileEncoding>(), Ok(FileEncoding::Detect));
        assert_eq!("utf-8".parse::<FileEncoding>(), Ok(FileEncoding::Utf8));
        assert_eq!("gb18030".parse::<FileEncoding>(), Ok(FileEncoding::Gb18030));
        assert_eq!("latin1".parse::<FileEncoding>(), Err(UnknownEncoding("latin1".into())));
    }

    fn rows(n: usize) -> String {
        let mut file = String::from("name,employer,trade,skill_level,contact\n");
        for i in 0..n {
            file.push_str(&format!("学员{i},厂,钳工,技师,139{i:08}\n\n"));
        }
        file
    }

    #[test]
    fn a_file_over_the_row_limit_is_refused_whole_with_its_count() {
        let none = BTreeSet::new();
        assert_eq!(check(rows(MAX_ROWS).as_bytes(), FileEncoding::Detect, &none).unwrap().rows.len(), MAX_ROWS);
        let over = check(rows(MAX_ROWS + 1).as_bytes(), FileEncoding::Detect, &none);
        assert_eq!(over, Err(FileProblem::TooManyRows { found: MAX_ROWS + 1 }), "blank lines are not counted");
        assert_eq!(over.unwrap_err().to_string(), "the file has 5001 trainees; at most 5000 are taken in one file");
    }

    #[test]
    fn control_and_invisible_characters_in_a_cell_are_refused_with_the_line() {
        let file = format!(
            "{GOOD}王\0五,厂,钳工,技师,13900000000\n赵六,厂\t一,钳工,技师,13900000001\n孙\u{85}七,厂,钳工,技师,13900000002\n\"周\n八\",厂,钳工,技师,13900000003\nAli\u{202E}ecil,厂,钳工,技师,13900000004\n吴\u{200B}九,厂,钳工,技师,13900000005\n郑十,厂,钳工,技师,1390000\u{2066}0006\n"
        );
        let c = check(file.as_bytes(), FileEncoding::Detect, &BTreeSet::new()).unwrap();
        let control = |what, code| RowProblem::Control { what, code };
        let hidden = |what, code| RowProblem::Hidden { what, code };
        let got: Vec<(usize, RowProblem)> = c.errors.into_iter().map(|e| (e.line, e.problem)).collect();
        assert_eq!(
            got,
            [
                (4, control("the name", 0)),
                (5, control("the employer", 9)),
                (6, control("the name", 0x85)),
                (7, control("the name", 10)),
                (9, hidden("the name", 0x202E)),
                (10, hidden("the name", 0x200B)),
                (11, hidden("the contact", 0x2066)),
            ]
        );
        assert_eq!(c.rows.len(), 2, "the clean rows only");
        assert_eq!(
            RowProblem::Control { what: "the name", code: 0 }.to_string(),
            "the name contains the control character U+0000"
        );
    }
}
