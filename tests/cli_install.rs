//! `canary-gate install DEST` as a process: mode 0755, the bytes of the
//! binary, the printed sha256 equal to one computed here, atomic replace, and
//! a clear exit-3 error for a directory DEST.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("canary-gate-install-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn installs_an_executable_copy_and_prints_its_sha256() {
    let dir = temp_dir("ok");
    let dest = dir.join("canary-gate");
    // An existing file is replaced (by rename), not appended to.
    std::fs::write(&dest, b"old contents").unwrap();
    let out = Command::new(BIN)
        .arg("install")
        .arg(&dest)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let installed = std::fs::read(&dest).unwrap();
    assert_eq!(
        installed,
        std::fs::read(BIN).unwrap(),
        "a byte-for-byte copy"
    );
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    let want = sha256_hex(&installed);
    assert!(stdout.contains(&format!("sha256: {want}\n")), "{stdout}");
    assert!(
        stdout.contains(&format!("      sha256: \"{want}\"\n")),
        "ConfigMap snippet: {stdout}"
    );
    assert!(
        stdout.contains(&format!("location: \"file://{}\"", dest.display())),
        "{stdout}"
    );
    // No temp file is left next to it.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("canary-gate")]);
    // And it runs.
    let v = Command::new(&dest).arg("version").output().unwrap();
    assert_eq!(
        String::from_utf8(v.stdout).unwrap().trim(),
        concat!("canary-gate ", env!("CARGO_PKG_VERSION"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_or_missing_parent_is_exit_3() {
    let dir = temp_dir("bad");
    let out = Command::new(BIN).arg("install").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("is a directory"), "{stderr}");
    let out = Command::new(BIN)
        .arg("install")
        .arg(dir.join("no/such/dir/cg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("create ") && stderr.contains("No such file"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
