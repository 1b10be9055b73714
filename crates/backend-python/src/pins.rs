//! The worker's pinned packages (python/requirements-worker.txt, the versions CI tests), for
//! the pip command a missing-package error gives.

/// The requirements file, embedded.
pub const REQUIREMENTS: &str = include_str!("../../../python/requirements-worker.txt");

/// `package==version` as pinned, or the bare name of a package we do not pin.
pub fn pip_spec(package: &str) -> String {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, version) = l.split_once("==")?;
            name.trim()
                .eq_ignore_ascii_case(package)
                .then(|| format!("{}=={}", name.trim(), version.trim()))
        })
        .unwrap_or_else(|| package.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pinned_packages_are_named_with_their_version() {
        assert!(super::pip_spec("torch").starts_with("torch=="));
        assert!(super::pip_spec("transformers").starts_with("transformers=="));
        assert_eq!(super::pip_spec("no-such-pkg"), "no-such-pkg");
    }
}
