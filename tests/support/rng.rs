//! xorshift64*: enough randomness for generated test cases and seeded chaos, no
//! dependency, the same on every machine for a seed. Standard library only: shared by the
//! suite (`tests/dk/`) and `cargo xtask` (`chaos`).
#![allow(dead_code)]

pub struct Rng(pub u64);

impl Rng {
    /// A generator from any seed (mixed, so that nearby seeds differ at once).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}
