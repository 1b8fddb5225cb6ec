//! Waits between delivery attempts: exponential, capped, with optional deterministic
//! jitter.

use std::time::Duration;

/// Waits between attempts: `initial`, then multiplied by `factor` after each failure, at
/// most `max`. With `jitter`, each wait is scaled into `[w/2, w]` by a hash of the
/// notification id and attempt, so notifications that failed together do not retry
/// together (deterministic: no random source).
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub factor: u32,
    pub max: Duration,
    pub jitter: bool,
}

impl Default for Backoff {
    /// 1 s, 2 s, 4 s, ... at most 5 minutes, with jitter.
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(1),
            factor: 2,
            max: Duration::from_secs(300),
            jitter: true,
        }
    }
}

impl Backoff {
    /// The wait after the `failed`-th failed attempt (1-based) of notification `id`.
    pub fn delay(&self, failed: u32, id: &str) -> Duration {
        let growth = self.factor.max(1).saturating_pow(failed.saturating_sub(1));
        let wait = self.initial.saturating_mul(growth).min(self.max);
        if !self.jitter {
            return wait;
        }
        let hash = format!("{id}\u{0}{failed}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        // The top 53 bits as a fraction in [0, 1).
        let unit = (hash >> 11) as f64 / (1u64 << 53) as f64;
        wait.mul_f64(0.5 + 0.5 * unit)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            factor: 2,
            max: Duration::from_secs(10),
            jitter: false,
        };
        let waits: Vec<u64> = (1..=6).map(|n| b.delay(n, "x").as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.delay(200, "x"), Duration::from_secs(10), "no overflow");
    }

    #[test]
    fn jitter_stays_within_half_and_whole_and_varies() {
        let b = Backoff {
            max: Duration::from_secs(1000),
            ..Backoff::default()
        };
        let mut seen = HashSet::new();
        for id in 0..50 {
            let d = b.delay(3, &id.to_string());
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
            seen.insert(d);
            assert_eq!(d, b.delay(3, &id.to_string()), "deterministic");
        }
        assert!(seen.len() > 40, "spread: {}", seen.len());
    }
}
