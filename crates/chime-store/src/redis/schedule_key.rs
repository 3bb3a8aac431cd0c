//! A schedule's key inside Redis: the id as chime makes it (a UUID) in 22
//! characters instead of 36. The key is written three times per schedule
//! (its record's field, its due entry, its listing entry), so the 14
//! characters saved are about 45 bytes of every schedule's memory.
//!
//! The alphabet is in ASCII order, so keys sort as their UUIDs do and the
//! listing's order by key is the order by id. An id that is not a canonical
//! UUID (a schedules file's `file:KEY`) keeps its text behind `~`, which
//! sorts after every UUID's key, as such ids sort after UUIDs by text.

const ALPHABET: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const CHOSEN: char = '~';

/// The key for a schedule id.
pub fn of(id: &str) -> String {
    match uuid::Uuid::try_parse(id) {
        // Only the canonical text round-trips: an id written in upper case
        // or without dashes is some other id, kept as it is.
        Ok(u) if u.hyphenated().to_string() == id => encode(u.as_u128()),
        _ => format!("{CHOSEN}{id}"),
    }
}

/// The schedule id a key stands for; `None` for text no key has.
pub fn id(key: &str) -> Option<String> {
    if let Some(chosen) = key.strip_prefix(CHOSEN) {
        return Some(chosen.to_string());
    }
    if key.len() != 22 {
        return None;
    }
    let mut bits: u128 = 0;
    for (i, b) in key.bytes().enumerate() {
        let digit = ALPHABET.iter().position(|&a| a == b)? as u128;
        // The last digit's 4 bits of padding must be zero.
        if i == 21 {
            if digit & 0xf != 0 {
                return None;
            }
            bits = (bits << 2) | (digit >> 4);
        } else {
            bits = (bits << 6) | digit;
        }
    }
    Some(uuid::Uuid::from_u128(bits).hyphenated().to_string())
}

/// 22 digits of 6 bits for 128: the last digit holds the lowest 2 bits
/// and 4 bits of zeros.
fn encode(bits: u128) -> String {
    let mut out: String = (0..21)
        .map(|i| digit((bits >> (122 - 6 * i)) as u64))
        .collect();
    out.push(digit(((bits & 3) << 4) as u64));
    out
}

/// The digit for the low 6 bits of `d`.
pub(super) fn digit(d: u64) -> char {
    char::from(ALPHABET[(d & 63) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uuids_take_22_characters_and_come_back() {
        let id = "01a24f71-6c4d-76a1-87a6-6047ea29a661";
        let key = of(id);
        assert_eq!(key.len(), 22);
        assert_eq!(self::id(&key).as_deref(), Some(id));
    }

    #[test]
    fn other_ids_keep_their_text() {
        for id in [
            "file:nightly",
            "",
            "01A24F71-6C4D-76A1-87A6-6047EA29A661",
            "x".repeat(40).as_str(),
        ] {
            let key = of(id);
            assert_eq!(key, format!("~{id}"));
            assert_eq!(self::id(&key).as_deref(), Some(id));
        }
    }

    #[test]
    fn text_no_key_has_is_refused() {
        for key in [
            "",
            "short",
            "!!!!!!!!!!!!!!!!!!!!!!",
            "zzzzzzzzzzzzzzzzzzzzzz",
        ] {
            assert_eq!(id(key), None, "{key}");
        }
    }

    proptest! {
        #[test]
        fn keys_sort_as_their_ids(a: u128, b: u128) {
            let (ia, ib) = (uuid::Uuid::from_u128(a).to_string(), uuid::Uuid::from_u128(b).to_string());
            let (ka, kb) = (of(&ia), of(&ib));
            prop_assert_eq!(ia.cmp(&ib), ka.cmp(&kb));
            prop_assert_eq!(id(&ka), Some(ia));
            prop_assert!(ka < of("file:x"));
        }
    }
}
