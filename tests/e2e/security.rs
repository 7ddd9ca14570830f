//! Local security: only the owner connects; malformed, oversized and idle connections cost
//! only themselves.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Whether the daemon closes a connection after `bytes` (within 5 s).
fn closed_after(socket: &Path, bytes: &[u8]) -> bool {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn only_the_owner_connects_and_bad_or_idle_connections_cost_only_themselves() {
    let d = Daemon::started();
    assert_eq!(mode(&d.socket), 0o600);
    assert_eq!(mode(d.socket.parent().unwrap()), 0o700);
    // A frame that is not a request, and a frame header that claims 4 GiB.
    assert!(closed_after(&d.socket, b"\0\0\0\x08garbage!"));
    assert!(closed_after(&d.socket, b"\xff\xff\xff\xff"));
    // A request whose deadline overflows (found by fuzzing; tarpc would panic reading it).
    assert!(closed_after(
        &d.socket,
        &[0, 0, 0, 11, 0, 253, 101, 236, 3, 112, 252, 238, 204, 253, 0]
    ));
    d.ok(&["status"]);
    assert!(!d.stderr().contains("panicked"), "{}", d.stderr());
    // Connections left idle: the oldest are closed, vxd keeps serving and its descriptors
    // stay bounded.
    let pid = d.child.as_ref().unwrap().id();
    let before = open_fds(pid);
    let idle: Vec<UnixStream> = (0..400)
        .map(|_| UnixStream::connect(&d.socket).unwrap())
        .collect();
    d.ok(&["status"]);
    let during = open_fds(pid);
    assert!(during < before + 140, "{before} descriptors, then {during}");
    drop(idle);
    // Another user, with the permissions loosened: refused by its uid.
    if !rustix::process::geteuid().is_root() {
        vx_testkit::cannot_run("connecting as another user needs root (runuser -u nobody)");
        return;
    }
    for dir in d
        .socket
        .ancestors()
        .skip(1)
        .take_while(|p| p.starts_with(d.dir.path()))
    {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let probe = format!(
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect({:?}); s.settimeout(5); \
         print(len(s.recv(16)))",
        d.socket.to_str().unwrap()
    );
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c", &probe])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "closed at once"
    );
    d.eventually(5, "the refusal logged", || {
        d.stderr()
            .contains("refused a connection from another user")
    });
    d.ok(&["status"]);
}
