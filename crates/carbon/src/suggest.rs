//! Close-match suggestions for unknown names (Levenshtein edit distance, plus prefix matches).

/// Edit distance between two strings, counted in chars (insert, delete, substitute each cost 1).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to `max` candidates close to `given`. Each candidate is (key to compare, text to show);
/// comparison is case-insensitive. A candidate qualifies if its edit distance is at most a
/// third of the longer length (at least 1, at most 3), or if one starts with the other.
pub fn close_matches<'a, I>(given: &str, candidates: I, max: usize) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, String)>,
{
    let given = given.trim().to_lowercase();
    let mut scored: Vec<(usize, String)> = Vec::new();
    for (key, shown) in candidates {
        let key = key.to_lowercase();
        let d = edit_distance(&given, &key);
        let limit = (given.chars().count().max(key.chars().count()) / 3).clamp(1, 3);
        let prefix = given.len() >= 2 && (key.starts_with(&given) || given.starts_with(&key));
        if d <= limit || prefix {
            scored.push((if prefix { d.min(limit) } else { d }, shown));
        }
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, s) in scored {
        if !out.contains(&s) {
            out.push(s);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("france", "frnace"), 2);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn suggestions_rank_closest_first() {
        let c = vec![
            ("france", "France (FRA)".to_string()),
            ("finland", "Finland (FIN)".to_string()),
            ("germany", "Germany (DEU)".to_string()),
        ];
        assert_eq!(close_matches("Frnace", c.clone(), 5), vec!["France (FRA)"]);
        assert!(close_matches("zzzzzz", c, 5).is_empty());
    }
}
