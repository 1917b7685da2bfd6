//! Times for the verifier: the crate's one date module ([`crate::util::date`]), under the name
//! the verifier and its callers use.

pub use crate::util::date::{format, parse_rfc3339, rfc3339};

#[cfg(test)]
mod tests {
    #[test]
    fn a_trusted_root_with_an_overflowing_offset_is_refused() {
        let root = concat!(
            r#"{"certificateAuthorities": [{"certChain": {"certificates": []}, "#,
            r#""validFor": {"start": "2020-01-01T00:00:00+9999999999999999:00"}}]}"#
        );
        let err = crate::attest::TrustedRoot::parse(root).unwrap_err();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
    }
}
