//! Pareto front of accuracy (higher is better) against energy (lower is better): the models
//! no other model beats on both at once.

/// Indices of the non-dominated points of `points` (accuracy, energy), ordered by energy
/// ascending (ties by accuracy descending, then index). A point is dominated when another has
/// accuracy >= and energy <= with at least one strictly better. Identical points dominate
/// neither each other, so all copies of a front point are members. Points with a non-finite
/// coordinate are never members.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut members: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| {
            let (ai, ei) = points[i];
            !points
                .iter()
                .any(|q| finite(q) && q.0 >= ai && q.1 <= ei && (q.0 > ai || q.1 < ei))
        })
        .collect();
    members.sort_by(|&a, &b| {
        points[a]
            .1
            .total_cmp(&points[b].1)
            .then(points[b].0.total_cmp(&points[a].0))
            .then(a.cmp(&b))
    });
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_front() {
        // (acc, energy): A(0.80, 1) B(0.85, 2) C(0.84, 3) D(0.90, 10) E(0.70, 0.5) F(0.90, 12)
        // C is beaten by B (more accurate, cheaper); F by D (same accuracy, cheaper).
        let pts = [
            (0.80, 1.0),
            (0.85, 2.0),
            (0.84, 3.0),
            (0.90, 10.0),
            (0.70, 0.5),
            (0.90, 12.0),
        ];
        assert_eq!(pareto_front(&pts), vec![4, 0, 1, 3]);
    }

    #[test]
    fn ties() {
        // Two identical points are both on the front; a point equal in energy but less accurate
        // is dominated; equal accuracy but dearer is dominated.
        let pts = [(0.9, 5.0), (0.9, 5.0), (0.8, 5.0), (0.9, 6.0), (0.5, 1.0)];
        assert_eq!(pareto_front(&pts), vec![4, 0, 1]);
    }

    #[test]
    fn single_and_empty_and_nan() {
        assert_eq!(pareto_front(&[(0.5, 3.0)]), vec![0]);
        assert!(pareto_front(&[]).is_empty());
        assert_eq!(pareto_front(&[(f64::NAN, 1.0), (0.2, 9.0)]), vec![1]);
    }

    #[test]
    fn one_point_dominates_all() {
        let pts = [(0.5, 3.0), (0.99, 0.1), (0.7, 2.0)];
        assert_eq!(pareto_front(&pts), vec![1]);
    }
}
