//! Money: amounts of yuan to the fen, exact (a `Decimal`, never binary floating point). Written in
//! a form as people write them ("3500", "3,500.50", "３５００"), kept in an instance's data as one
//! canonical string with two decimals ("3500.00"), so two equal amounts are equal values.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

/// The most digits an amount may have before its decimal point: far above any sum the unions
/// handle, and well inside what a `Decimal` holds exactly.
const MAX_WHOLE_DIGITS: usize = 15;

/// Why a text is not an amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not an amount: write digits, such as 3500 or 3,500.50")]
    NotAnAmount,
    #[error("an amount has at most two decimals (fen)")]
    TooManyDecimals,
}

/// Parses an amount as typed: digits with at most two decimals, thousands grouped by commas or
/// not, full-width digits as half-width, an optional sign, "¥" before or "元" after.
pub fn parse_money(text: &str) -> Result<Decimal, MoneyError> {
    let normal: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (u32::from(c) - u32::from('０')) as u8),
            '．' => '.',
            '，' => ',',
            '－' => '-',
            other => other,
        })
        .collect();
    let s = normal.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let whole = if whole.contains(',') {
        // Commas only between groups of three: "3,500" and "1,234,567", never "35,00".
        let mut groups = whole.split(',');
        let first = groups.next().unwrap_or_default();
        let first_ok = digits(first) && first.len() <= 3;
        let groups: Vec<&str> = groups.collect();
        if !first_ok || !groups.iter().all(|g| g.len() == 3 && digits(g)) {
            return Err(MoneyError::NotAnAmount);
        }
        std::iter::once(first).chain(groups).collect::<String>()
    } else if digits(whole) {
        whole.to_owned()
    } else {
        return Err(MoneyError::NotAnAmount);
    };
    if whole.trim_start_matches('0').len() > MAX_WHOLE_DIGITS {
        return Err(MoneyError::NotAnAmount);
    }
    let fraction = match fraction {
        None => "",
        Some(f) if !digits(f) => return Err(MoneyError::NotAnAmount),
        Some(f) if f.len() > 2 => return Err(MoneyError::TooManyDecimals),
        Some(f) => f,
    };
    let sign = if negative { "-" } else { "" };
    let amount = Decimal::from_str(&format!("{sign}{whole}.{fraction:0<2}")).map_err(|_| MoneyError::NotAnAmount)?;
    Ok(canonical(amount))
}

/// The amount to the fen, rounded half away from zero, with exactly two decimals kept (so it
/// prints as "3500.00").
fn canonical(amount: Decimal) -> Decimal {
    let mut a = amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    a.rescale(2);
    if a.is_zero() { Decimal::new(0, 2) } else { a }
}

/// The canonical form an instance's data keeps: a string with exactly two decimals.
pub fn money_json(amount: Decimal) -> Value {
    Value::String(canonical(amount).to_string())
}

/// An amount read back from an instance's data (its canonical string); `None` for anything else.
pub fn money_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

/// The amount as a page writes it: thousands grouped by commas, two decimals ("3,500.00"). The
/// unit (元, yuan) is the reader's language's to add.
pub fn format_money(amount: Decimal) -> String {
    let text = canonical(amount).abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount.is_sign_negative() && !canonical(amount).is_zero() { "-" } else { "" };
    format!("{sign}{grouped}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(s: &str) -> String {
        parse_money(s)
            .map(|d| money_json(d).as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn amounts_parse_as_people_type_them_into_two_decimals() {
        assert_eq!(yuan("3500"), "3500.00");
        assert_eq!(yuan("3500.5"), "3500.50");
        assert_eq!(yuan("3,500.50"), "3500.50");
        assert_eq!(yuan("1,234,567"), "1234567.00");
        assert_eq!(yuan("３５００"), "3500.00");
        assert_eq!(yuan("３，５００．５"), "3500.50");
        assert_eq!(yuan(" 800元 "), "800.00");
        assert_eq!(yuan("¥800"), "800.00");
        assert_eq!(yuan("0"), "0.00");
        assert_eq!(yuan("0.01"), "0.01");
        assert_eq!(yuan("007"), "7.00");
        assert_eq!(yuan("-12.3"), "-12.30");
    }

    #[test]
    fn more_than_two_decimals_letters_and_bad_grouping_are_refused() {
        assert_eq!(parse_money("3500.505"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_money("0.001"), Err(MoneyError::TooManyDecimals));
        for bad in [
            "",
            "abc",
            "35a0",
            "3500.",
            ".5",
            "35,00",
            "3,5000",
            ",350",
            "1.2.3",
            "3 500",
            "1e3",
            "--5",
            "9999999999999999",
        ] {
            assert_eq!(parse_money(bad), Err(MoneyError::NotAnAmount), "{bad:?}");
        }
    }

    #[test]
    fn amounts_are_exact_where_binary_floating_point_is_not() {
        let sum = parse_money("0.1").unwrap() + parse_money("0.2").unwrap();
        assert_eq!(sum, parse_money("0.3").unwrap());
        assert_eq!(money_json(sum), Value::String("0.30".into()));
    }

    #[test]
    fn pages_group_thousands() {
        let shown = |s: &str| format_money(parse_money(s).unwrap());
        assert_eq!(shown("3500"), "3,500.00");
        assert_eq!(shown("1234567.8"), "1,234,567.80");
        assert_eq!(shown("999"), "999.00");
        assert_eq!(shown("0"), "0.00");
        assert_eq!(shown("-1000"), "-1,000.00");
        assert_eq!(money_of(&Value::String("800.00".into())), Some(parse_money("800").unwrap()));
        assert_eq!(money_of(&Value::from(800)), None);
    }
}
