//! Flow-log times: epoch seconds, with the milliseconds AWS sometimes writes instead.

/// Values above this are taken as milliseconds, as flowlogs-reader does: no epoch second fits
/// in it before 2038, and every millisecond value since 1970-01-25 exceeds it.
pub const MILLIS_THRESHOLD: i64 = i32::MAX as i64;

/// Normalise a `start`/`end` value to seconds. Returns the value and whether it was rewritten.
pub fn normalise_epoch_seconds(v: i64) -> (i64, bool) {
    if v > MILLIS_THRESHOLD {
        (v / 1000, true)
    } else {
        (v, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_become_seconds() {
        assert_eq!(
            normalise_epoch_seconds(1_418_530_010),
            (1_418_530_010, false)
        );
        assert_eq!(
            normalise_epoch_seconds(1_418_530_010_123),
            (1_418_530_010, true)
        );
        // A truncated epoch (Elastic's v5 fixture) stays as written.
        assert_eq!(normalise_epoch_seconds(164_000_066), (164_000_066, false));
    }
}
