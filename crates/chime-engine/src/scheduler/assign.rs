//! Which buckets each live instance should own (DESIGN §4: rebalanced
//! evenly). Every instance computes the same answer from the same sorted
//! list of live instances, with no coordination beyond the registry.
//!
//! Rendezvous hashing ranks the instances for each bucket; a cap of
//! ceil(buckets / instances) per instance keeps the shares even. When an
//! instance joins or leaves, mostly the buckets it gains or loses move.

/// The buckets `me` should hold while `live` (ids, any order) are alive.
pub fn share(buckets: u32, live: &[String], me: &str) -> Vec<u32> {
    let mut live: Vec<&str> = live.iter().map(String::as_str).collect();
    live.sort_unstable();
    live.dedup();
    if live.is_empty() {
        return Vec::new();
    }
    let cap = (buckets as usize).div_ceil(live.len());
    let mut load = vec![0usize; live.len()];
    let mut mine = Vec::new();
    let mut ranked: Vec<usize> = (0..live.len()).collect();
    for bucket in 0..buckets {
        ranked.sort_by_key(|&i| std::cmp::Reverse(score(bucket, live[i])));
        if let Some(&owner) = ranked.iter().find(|&&i| load[i] < cap) {
            load[owner] += 1;
            if live[owner] == me {
                mine.push(bucket);
            }
        }
    }
    mine
}

/// FNV-1a over the instance id, mixed with the bucket (SplitMix64 finaliser).
fn score(bucket: u32, instance: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in instance.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ (u64::from(bucket).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("instance-{i}")).collect()
    }

    fn owners(buckets: u32, live: &[String]) -> HashMap<u32, String> {
        let mut owner = HashMap::new();
        for me in live {
            for b in share(buckets, live, me) {
                assert!(owner.insert(b, me.clone()).is_none(), "bucket {b} twice");
            }
        }
        owner
    }

    #[test]
    fn every_bucket_has_exactly_one_owner_and_shares_are_even() {
        for n in 1..=7 {
            let live = ids(n);
            let owner = owners(256, &live);
            assert_eq!(owner.len(), 256, "{n} instances");
            let mut load: HashMap<&String, usize> = HashMap::new();
            for o in owner.values() {
                *load.entry(o).or_default() += 1;
            }
            let (min, max) = (
                load.values().min().copied().unwrap_or(0),
                load.values().max().copied().unwrap_or(0),
            );
            assert!(max - min <= n, "{n} instances: loads {min}..{max}");
            assert!(max <= 256usize.div_ceil(n));
        }
    }

    #[test]
    fn the_order_of_the_list_does_not_matter() {
        let live = ids(4);
        let mut reversed = live.clone();
        reversed.reverse();
        for me in &live {
            assert_eq!(share(256, &live, me), share(256, &reversed, me));
        }
    }

    #[test]
    fn a_join_moves_few_buckets() {
        let before = owners(256, &ids(3));
        let after = owners(256, &ids(4));
        let moved = (0..256).filter(|b| before[b] != after[b]).count();
        // Ideal is 64 (the newcomer's quarter); plain modulo would move ~192.
        assert!(moved <= 100, "{moved} of 256 buckets moved");
    }

    #[test]
    fn a_stranger_owns_nothing() {
        assert!(share(256, &ids(3), "not-live").is_empty());
        assert!(share(256, &[], "x").is_empty());
    }
}
