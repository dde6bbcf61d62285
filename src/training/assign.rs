//! Assigning mentors: each trainee gets a mentor of their field, the least loaded one first,
//! never past a mentor's capacity; every choice is explained, and a trainee left without a mentor
//! is listed with the reason.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mentor {
    pub username: String,
    pub field: String,
    pub capacity: usize,
    /// Trainees the mentor already follows.
    pub load: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trainee {
    pub id: String,
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Assigned { mentor: String, why: Why },
    Unassigned { why: Unassigned },
}

/// Why a mentor was chosen: their field matches, and their load before this trainee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub field: String,
    pub load_before: usize,
    pub capacity: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unassigned {
    /// No mentor works in the trainee's field.
    NoMentorInField,
    /// Every mentor of the field is at capacity.
    FieldFull,
}

/// Assigns in the trainees' order. Among the mentors of a field, the one with the lowest load
/// relative to capacity takes the next trainee (ties by user name, so the result is stable).
pub fn assign(mentors: &[Mentor], trainees: &[Trainee]) -> Vec<(String, Choice)> {
    let mut load: BTreeMap<&str, usize> = mentors.iter().map(|m| (m.username.as_str(), m.load)).collect();
    trainees
        .iter()
        .map(|t| {
            let of_field: Vec<&Mentor> = mentors.iter().filter(|m| m.field == t.field).collect();
            if of_field.is_empty() {
                return (t.id.clone(), Choice::Unassigned { why: Unassigned::NoMentorInField });
            }
            let best = of_field
                .iter()
                .filter(|m| load[m.username.as_str()] < m.capacity)
                // load / capacity, compared exactly: a/b < c/d  ⇔  a·d < c·b
                .min_by(|a, b| {
                    let (la, lb) = (load[a.username.as_str()], load[b.username.as_str()]);
                    (la * b.capacity).cmp(&(lb * a.capacity)).then_with(|| a.username.cmp(&b.username))
                });
            match best {
                None => (t.id.clone(), Choice::Unassigned { why: Unassigned::FieldFull }),
                Some(m) => {
                    let slot = load.entry(m.username.as_str()).or_default();
                    let why = Why { field: m.field.clone(), load_before: *slot, capacity: m.capacity };
                    *slot += 1;
                    (t.id.clone(), Choice::Assigned { mentor: m.username.clone(), why })
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mentor(name: &str, field: &str, capacity: usize) -> Mentor {
        Mentor { username: name.into(), field: field.into(), capacity, load: 0 }
    }

    #[test]
    fn load_is_balanced_within_a_field_and_capacity_is_never_passed() {
        let mentors = [mentor("a", "电工", 2), mentor("b", "电工", 4), mentor("c", "焊工", 1)];
        let trainees: Vec<Trainee> = (0..7).map(|i| Trainee { id: format!("t{i}"), field: "电工".into() }).collect();
        let out = assign(&mentors, &trainees);
        let to =
            |m: &str| out.iter().filter(|(_, c)| matches!(c, Choice::Assigned { mentor, .. } if mentor == m)).count();
        assert_eq!((to("a"), to("b"), to("c")), (2, 4, 0));
        assert_eq!(out[6].1, Choice::Unassigned { why: Unassigned::FieldFull });
        let orphan = assign(&mentors, &[Trainee { id: "x".into(), field: "木工".into() }]);
        assert_eq!(orphan[0].1, Choice::Unassigned { why: Unassigned::NoMentorInField });
    }

    proptest! {
        #[test]
        fn no_mentor_is_ever_past_capacity(caps in prop::collection::vec(0usize..6, 1..6), n in 0usize..40) {
            let mentors: Vec<Mentor> = caps.iter().enumerate().map(|(i, c)| mentor(&format!("m{i}"), "f", *c)).collect();
            let trainees: Vec<Trainee> = (0..n).map(|i| Trainee { id: i.to_string(), field: "f".into() }).collect();
            let out = assign(&mentors, &trainees);
            for m in &mentors {
                let n = out.iter().filter(|(_, c)| matches!(c, Choice::Assigned { mentor, .. } if *mentor == m.username)).count();
                prop_assert!(n <= m.capacity);
            }
            let assigned = out.iter().filter(|(_, c)| matches!(c, Choice::Assigned { .. })).count();
            prop_assert_eq!(assigned, n.min(caps.iter().sum()));
        }
    }
}
