//! 1C's strings: UTF-16 code units (2 bytes on every OS, never `wchar_t` on Linux), names
//! NUL-terminated, payloads by length.

/// The longest NUL-terminated string read from the platform, in code units: a guard against
/// running off the end of a string that is not terminated.
const MAX_TERMINATED: usize = 1 << 20;

/// The text of a NUL-terminated UTF-16 string (unpaired surrogates become U+FFFD); `None`
/// for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated UTF-16 string.
pub(crate) unsafe fn from_terminated(ptr: *const u16) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: the string is NUL-terminated, so every unit up to the NUL is readable.
    while len < MAX_TERMINATED && unsafe { *ptr.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    Some(unsafe { from_parts(ptr, len) })
}

/// The text of `len` UTF-16 units at `ptr` (NULL with any length is empty), or, when they
/// hold an unpaired surrogate, where it is (a unit index).
///
/// # Safety
/// `ptr` is NULL or valid for reading `len` units.
pub(crate) unsafe fn from_parts_strict(ptr: *const u16, len: usize) -> Result<String, usize> {
    if ptr.is_null() || len == 0 {
        return Ok(String::new());
    }
    // SAFETY: valid for `len` units per the contract.
    let units = unsafe { std::slice::from_raw_parts(ptr, len) };
    let mut text = String::with_capacity(len);
    let mut at = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => {
                text.push(c);
                at += c.len_utf16();
            }
            Err(_) => return Err(at),
        }
    }
    Ok(text)
}

/// The text of `len` UTF-16 units at `ptr` (NULL with any length is empty).
///
/// # Safety
/// `ptr` is NULL or valid for reading `len` units.
pub(crate) unsafe fn from_parts(ptr: *const u16, len: usize) -> String {
    if ptr.is_null() || len == 0 {
        return String::new();
    }
    // SAFETY: valid for `len` units per the contract.
    let units = unsafe { std::slice::from_raw_parts(ptr, len) };
    String::from_utf16_lossy(units)
}

/// `s` as UTF-16 with a terminating NUL.
pub(crate) fn terminated(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_cyrillic_and_reads_unterminated_payloads() {
        let z = terminated("Открыть");
        assert_eq!(z.last(), Some(&0));
        // SAFETY: `z` is NUL-terminated.
        assert_eq!(
            unsafe { from_terminated(z.as_ptr()) }.as_deref(),
            Some("Открыть")
        );
        // SAFETY: the first 3 units are readable.
        assert_eq!(unsafe { from_parts(z.as_ptr(), 3) }, "Отк");
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { from_terminated(std::ptr::null()) }, None);
    }

    #[test]
    fn an_unpaired_surrogate_is_found_not_repaired() {
        let pair = "a😀b".encode_utf16().collect::<Vec<_>>();
        // SAFETY: `pair` is readable for its length.
        assert_eq!(
            unsafe { from_parts_strict(pair.as_ptr(), pair.len()) },
            Ok("a😀b".into())
        );
        for (units, at) in [(vec![0x61, 0xD800, 0x62], 1), (vec![0x61, 0x62, 0xDC00], 2)] {
            // SAFETY: `units` is readable for its length.
            assert_eq!(
                unsafe { from_parts_strict(units.as_ptr(), units.len()) },
                Err(at)
            );
        }
    }
}
