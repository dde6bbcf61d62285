//! The audit chain: every event carries the hash of its predecessor in its stream, so an edited,
//! deleted or reordered row breaks the chain where it happened.

use sha2::{Digest, Sha256};

/// The hash before the first event of a stream.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit event as stored: exactly the values the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub stream: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub process: Option<String>,
    pub instance_id: Option<i64>,
    pub event: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// Canonical JSON text (sorted keys), stored as hashed.
    pub data: String,
}

/// sha256 over the previous hash and a length-prefixed encoding of every field, so no two
/// different records encode alike.
pub fn chain_hash(prev_hash: &str, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let mut put = |value: Option<&str>| match value {
        Some(v) => {
            h.update(v.len().to_string().as_bytes());
            h.update(b":");
            h.update(v.as_bytes());
            h.update(b";");
        }
        None => h.update(b"-;"),
    };
    put(Some(prev_hash));
    put(Some(&r.stream));
    put(Some(&r.seq.to_string()));
    put(Some(&r.at.to_string()));
    put(Some(&r.actor));
    put(Some(&r.kind));
    put(r.process.as_deref());
    put(r.instance_id.map(|i| i.to_string()).as_deref());
    put(r.event.as_deref());
    put(r.from_state.as_deref());
    put(r.to_state.as_deref());
    put(Some(&r.data));
    hex(&h.finalize())
}

/// The hex SHA-256 of `bytes`: how secrets (session, API and feed tokens) are kept, and requests
/// compared.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// JSON with object keys sorted at every depth, so equal data always hashes alike.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&map[k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Why a stored event fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("its hash does not match its content (the row was edited)")]
    HashMismatch,
    #[error("it does not follow the previous event of its stream (an event before it was deleted, edited or moved)")]
    PrevMismatch,
    #[error("its sequence number {found} should be {expected} (events were deleted or reordered)")]
    SeqGap { expected: i64, found: i64 },
    #[error(
        "the stream should end at sequence {expected} with the hash its head holds: its last events were deleted or rewritten"
    )]
    Truncated { expected: i64 },
    #[error("the stream has events up to sequence {last} but its head records only {head}: an append did not finish")]
    PastHead { head: i64, last: i64 },
}

/// Checks one event against the one before it in its stream.
pub fn check_link(
    prev: Option<(i64, &str)>,
    record: &AuditRecord,
    prev_hash: &str,
    hash: &str,
) -> Result<(), ChainBreak> {
    let (expected_seq, expected_prev) = match prev {
        Some((seq, h)) => (seq + 1, h),
        None => (0, GENESIS),
    };
    if record.seq != expected_seq {
        return Err(ChainBreak::SeqGap { expected: expected_seq, found: record.seq });
    }
    if prev_hash != expected_prev {
        return Err(ChainBreak::PrevMismatch);
    }
    if chain_hash(prev_hash, record) != hash {
        return Err(ChainBreak::HashMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, data: &str) -> AuditRecord {
        AuditRecord {
            stream: "instance:1".into(),
            seq,
            at: 1,
            actor: "a".into(),
            kind: "transition".into(),
            process: Some("p".into()),
            instance_id: Some(1),
            event: Some("e".into()),
            from_state: None,
            to_state: Some("s".into()),
            data: data.into(),
        }
    }

    #[test]
    fn a_chain_verifies_and_any_edit_breaks_it() {
        let first = record(0, "{}");
        let h0 = chain_hash(GENESIS, &first);
        let second = record(1, r#"{"x":1}"#);
        let h1 = chain_hash(&h0, &second);
        assert_eq!(check_link(None, &first, GENESIS, &h0), Ok(()));
        assert_eq!(check_link(Some((0, &h0)), &second, &h0, &h1), Ok(()));
        let edited = record(1, r#"{"x":2}"#);
        assert_eq!(check_link(Some((0, &h0)), &edited, &h0, &h1), Err(ChainBreak::HashMismatch));
        assert!(matches!(check_link(None, &second, &h0, &h1), Err(ChainBreak::SeqGap { .. })));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = serde_json::json!({"b": 1, "a": {"d": [2, {"z": 0, "y": 1}], "c": "名"}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"名","d":[2,{"y":1,"z":0}]},"b":1}"#);
    }
}
