//! Small value types written in definition files: fractions ("2/3") and periods ("20d", "3m").

use std::fmt;
use std::str::FromStr;

/// A non-negative exact fraction, kept in lowest terms; compared by cross-multiplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    num: u32,
    den: u32,
}

impl Fraction {
    pub fn new(num: u32, den: u32) -> Option<Self> {
        if den == 0 || num > den {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Self { num: num / g, den: den / g })
    }
    pub fn num(self) -> u32 {
        self.num
    }
    pub fn den(self) -> u32 {
        self.den
    }
    /// The least count `n` with `n >= self × base` (or `n > self × base` when strict).
    pub fn least_count(self, base: u64, strict: bool) -> u64 {
        let product = u128::from(self.num) * u128::from(base);
        let den = u128::from(self.den);
        let floor = product / den;
        let exact = product % den == 0;
        let least = if strict {
            floor + 1
        } else if exact {
            floor
        } else {
            floor + 1
        };
        // `least <= base + 1` because the fraction is at most 1, so it fits.
        least as u64
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed fraction {0:?}: write it as N/D with 0 <= N <= D and D > 0, such as \"2/3\"")]
pub struct BadFraction(pub String);

impl FromStr for Fraction {
    type Err = BadFraction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadFraction(s.to_owned());
        let (n, d) = s.trim().split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let d: u32 = d.trim().parse().map_err(|_| bad())?;
        Fraction::new(n, d).ok_or_else(bad)
    }
}

/// A period of whole days or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(u32),
    Months(u32),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed duration {0:?}: write a whole number of days or months, such as \"20d\" or \"3m\"")]
pub struct BadPeriod(pub String);

impl FromStr for Period {
    type Err = BadPeriod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadPeriod(s.to_owned());
        let s = s.trim();
        let (digits, unit) = s.split_at(s.len().checked_sub(1).ok_or_else(bad)?);
        let n: u32 = digits.parse().map_err(|_| bad())?;
        if n > 3660 {
            return Err(bad());
        }
        match unit {
            "d" => Ok(Period::Days(n)),
            "m" => Ok(Period::Months(n)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Days(n) => write!(f, "{n}d"),
            Period::Months(n) => write!(f, "{n}m"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_parse_in_lowest_terms_and_refuse_nonsense() {
        assert_eq!("4/6".parse::<Fraction>().unwrap(), Fraction::new(2, 3).unwrap());
        for bad in ["", "2", "3/2", "1/0", "a/b", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Fraction>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn least_count_rounds_up_and_respects_strictness() {
        let two_thirds: Fraction = "2/3".parse().unwrap();
        assert_eq!(two_thirds.least_count(25, false), 17); // 16.67 -> 17
        assert_eq!(two_thirds.least_count(24, false), 16); // exactly 16
        assert_eq!(two_thirds.least_count(24, true), 17); // more than 16
        let half: Fraction = "1/2".parse().unwrap();
        assert_eq!(half.least_count(25, false), 13);
        assert_eq!(half.least_count(24, false), 12);
        assert_eq!(half.least_count(24, true), 13);
        assert_eq!(half.least_count(0, false), 0);
    }

    #[test]
    fn periods_parse_days_and_months_only() {
        assert_eq!("20d".parse::<Period>().unwrap(), Period::Days(20));
        assert_eq!("3m".parse::<Period>().unwrap(), Period::Months(3));
        for bad in ["", "d", "20", "20w", "-3d", "1.5d", "3 m"] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} should be refused");
        }
    }
}
