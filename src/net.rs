//! IPv4 subnets for the live and test networks: parsing, membership, overlap, and the
//! mirroring of a live address into the test subnet.

use std::fmt;

use crate::error::Result;
use std::net::Ipv4Addr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    pub fn network(&self) -> u32 {
        u32::from(self.addr) & self.mask()
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.network()
    }

    /// True when an address is usable by a container: inside, not the network address,
    /// not the broadcast address, not the gateway (the first host, Docker's default).
    pub fn usable_host(&self, ip: Ipv4Addr) -> bool {
        let v = u32::from(ip);
        let host = v & !self.mask();
        self.contains(ip) && host != 0 && host != !self.mask() && host != 1
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let m = self.mask() & other.mask();
        u32::from(self.addr) & m == u32::from(other.addr) & m
    }

    /// The address with the same host part in `other` (a static live IP mirrored into the
    /// test subnet, as the old system did).
    pub fn mirror(&self, ip: Ipv4Addr, other: &Subnet) -> Ipv4Addr {
        let host = u32::from(ip) & !self.mask();
        Ipv4Addr::from(other.network() | (host & !other.mask()))
    }

    /// Docker's default gateway for a subnet: its first host.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network() + 1)
    }
}

impl FromStr for Subnet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a subnet in CIDR form (e.g. 172.30.0.0/24)"))?;
        let addr: Ipv4Addr = a
            .parse()
            .map_err(|_| format!("`{a}` in `{s}` is not an IPv4 address"))?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| format!("prefix `/{p}` in `{s}` must be between /8 and /30"))?;
        let net = Subnet { addr, prefix };
        if u32::from(addr) != net.network() {
            return Err(format!(
                "`{s}` has host bits set; did you mean {}/{prefix}?",
                Ipv4Addr::from(net.network())
            ));
        }
        Ok(net)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_contain() {
        let s: Subnet = "172.30.0.0/24".parse().unwrap();
        assert!(s.contains("172.30.0.9".parse().unwrap()));
        assert!(!s.contains("172.30.1.9".parse().unwrap()));
        assert!(s.usable_host("172.30.0.9".parse().unwrap()));
        assert!(!s.usable_host("172.30.0.1".parse().unwrap()));
        assert!(!s.usable_host("172.30.0.255".parse().unwrap()));
        assert!("172.30.0.1/24".parse::<Subnet>().is_err());
        assert!("172.30.0.0".parse::<Subnet>().is_err());
    }

    #[test]
    fn overlap_and_mirror() {
        let live: Subnet = "172.30.0.0/24".parse().unwrap();
        let test: Subnet = "172.31.0.0/24".parse().unwrap();
        let wide: Subnet = "172.16.0.0/12".parse().unwrap();
        assert!(!live.overlaps(&test));
        assert!(live.overlaps(&wide));
        assert!(wide.overlaps(&test));
        assert_eq!(
            live.mirror("172.30.0.17".parse().unwrap(), &test),
            "172.31.0.17".parse::<Ipv4Addr>().unwrap()
        );
    }
}
