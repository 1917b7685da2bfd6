//! `Link` header pagination: follow `rel="next"` exactly as given (it may use another path form,
//! `/repositories/{id}/...`), never rebuild page URLs ourselves.

/// The `rel="next"` target of a `Link` header value, if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_others() {
        let h = r#"<https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some(
                "https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2"
            )
        );
        assert_eq!(
            next_link(r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=1>; rel="first""#),
            None
        );
        assert_eq!(next_link(""), None);
    }
}
