//! How long concerns waited to be acknowledged. The read model keeps, per school and month, a
//! histogram of those times in 280 buckets (`acknowledgement_bucket()`, migration 1002): to the
//! minute for two hours, then in ever coarser steps to thirty days. A median read from it is exact to
//! its bucket.

/// The lower bound, in minutes, of a bucket of `acknowledgement_bucket()`, 0-based.
pub fn bucket_minutes(bucket: usize) -> f64 {
    let minutes = match bucket {
        0..120 => bucket,
        120..208 => 120 + (bucket - 120) * 15,
        208..256 => 1440 + (bucket - 208) * 180,
        256..279 => 10080 + (bucket - 256) * 1440,
        _ => 43200,
    };
    minutes as f64
}

/// The median of a histogram of acknowledgement times, interpolating between the two middle values
/// as `percentile_cont(0.5)` does; each time counts as its bucket's lower bound.
pub fn median_minutes(histogram: &[i64]) -> Option<f64> {
    let count: i64 = histogram.iter().sum();
    if count == 0 {
        return None;
    }
    // The value at 0-based rank `rank` of the sorted times.
    let at = |rank: i64| {
        let mut seen = 0;
        for (bucket, n) in histogram.iter().enumerate() {
            seen += n;
            if seen > rank {
                return bucket_minutes(bucket);
            }
        }
        unreachable!("the rank is below the count")
    };
    let (lower, upper) = ((count - 1) / 2, count / 2);
    Some((at(lower) + at(upper)) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(minutes: &[usize]) -> Vec<i64> {
        let mut histogram = vec![0; 280];
        for &m in minutes {
            // The migration's acknowledgement_bucket(), 0-based.
            let bucket = (0..280).rev().find(|&b| bucket_minutes(b) <= m as f64).unwrap();
            histogram[bucket] += 1;
        }
        histogram
    }

    #[test]
    fn the_median_interpolates_the_middle_pair_like_percentile_cont() {
        assert_eq!(median_minutes(&histogram(&[10, 30, 60, 90])), Some(45.0));
        assert_eq!(median_minutes(&histogram(&[30, 90, 119])), Some(90.0));
        assert_eq!(median_minutes(&histogram(&[])), None);
    }

    #[test]
    fn longer_times_are_counted_in_coarser_steps() {
        assert_eq!(median_minutes(&histogram(&[130])), Some(120.0));
        assert_eq!(median_minutes(&histogram(&[1500])), Some(1440.0));
        assert_eq!(median_minutes(&histogram(&[20_000])), Some(18_720.0));
        assert_eq!(median_minutes(&histogram(&[100_000])), Some(43_200.0));
    }
}
