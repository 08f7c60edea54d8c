//! Listening TCP sockets in a process's network namespace (/proc/PID/net/tcp, tcp6) and which of them
//! the process itself holds (its /proc/PID/fd links `socket:[INODE]`).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub address: SocketAddr,
    pub inode: u64,
}

impl Listening {
    /// Where to connect to reach it: its address, or loopback when it listens on every address.
    pub fn connect_to(&self) -> SocketAddr {
        let ip = match self.address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.address.port())
    }
}

/// Every listening TCP socket in the network namespace of `pid`.
pub fn listening_in_namespace_of(pid: u32) -> Vec<Listening> {
    ["tcp", "tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(parse_line)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The listening sockets process `pid` holds open.
pub fn listening_of(pid: u32) -> Vec<Listening> {
    let inodes = socket_inodes(pid);
    listening_in_namespace_of(pid)
        .into_iter()
        .filter(|l| inodes.contains(&l.inode))
        .collect()
}

/// The pid of a process heapgraph may look into that holds socket `inode`.
pub fn holder_of(inode: u64) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| socket_inodes(pid).contains(&inode))
}

fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    fds.filter_map(|fd| {
        let target = std::fs::read_link(fd.ok()?.path()).ok()?;
        target
            .to_str()?
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// A line of /proc/net/tcp when it is a listening socket (state `0A`): `sl local rem st ... inode`.
fn parse_line(line: &str) -> Option<Listening> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.get(3) != Some(&"0A") {
        return None;
    }
    let (ip, port) = fields.get(1)?.split_once(':')?;
    Some(Listening {
        address: SocketAddr::new(parse_ip(ip)?, u16::from_str_radix(port, 16).ok()?),
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// The kernel prints an address as its 32-bit words in host order, each as `%08X`.
fn parse_ip(hex: &str) -> Option<IpAddr> {
    let words: Option<Vec<[u8; 4]>> = hex
        .as_bytes()
        .chunks(8)
        .map(|w| {
            let word = u32::from_str_radix(std::str::from_utf8(w).ok()?, 16).ok()?;
            Some(word.to_ne_bytes())
        })
        .collect();
    let bytes: Vec<u8> = words?.concat();
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_this_process_listens_on_is_found_with_its_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let ours = listening_of(std::process::id());
        let found = ours
            .iter()
            .find(|l| l.address == address)
            .unwrap_or_else(|| panic!("{address} not in {ours:?}"));
        assert_eq!(holder_of(found.inode), Some(std::process::id()));
        assert_eq!(found.connect_to(), address);
        drop(listener);
        assert!(!listening_of(std::process::id())
            .iter()
            .any(|l| l.address == address));
    }

    #[test]
    fn any_address_is_reached_through_loopback() {
        let any = Listening {
            address: "[::]:9229".parse().unwrap(),
            inode: 1,
        };
        assert_eq!(any.connect_to(), "[::1]:9229".parse().unwrap());
    }
}
