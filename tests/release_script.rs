//! `scripts/release`: it really builds the static musl binary and names and
//! checksums it as the https ConfigMap expects.
//!
//! The build uses the `release-check` profile (the dev profile without debug
//! info): the same script, target, static-link check, naming and checksum as a
//! release, without the release profile's LTO minutes. It installs
//! `musl-tools` and the rustup target when they are missing.

use std::path::Path;
use std::process::Command;

use canary_gate::lint::parse_documents;
use sha2::{Digest, Sha256};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn script() -> Command {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release"))
}

/// True when the ELF file has a `PT_INTERP` program header (a dynamic loader).
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not ELF64");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3 // PT_INTERP
    })
}

#[test]
fn release_builds_a_static_binary_named_and_checksummed_for_the_configmap() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-artifacts");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = script()
        .args(["--profile", "release-check", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "scripts/release failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = format!("canary-gate-{VERSION}-linux-amd64");
    let binary = out_dir.join(&name);
    let sum_file = out_dir.join(format!("{name}.sha256"));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [binary.to_str().unwrap(), sum_file.to_str().unwrap()],
        "{stdout}"
    );
    let mut files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, [name.clone(), format!("{name}.sha256")]);

    let bytes = std::fs::read(&binary).unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        std::fs::read_to_string(&sum_file).unwrap(),
        format!("{hex}  {name}\n")
    );
    assert_eq!(lines[2], hex);
    assert!(!has_interpreter(&bytes), "{name} is dynamically linked");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&binary).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    let v = Command::new(&binary).arg("version").output().unwrap();
    assert_eq!(
        String::from_utf8(v.stdout).unwrap(),
        format!("canary-gate {VERSION}\n")
    );

    // The https ConfigMap points at that file-name pattern.
    let cm =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-config/argo-rollouts-config-https.yaml");
    let doc = parse_documents(&std::fs::read_to_string(cm).unwrap())
        .unwrap()
        .remove(0);
    let plugins = parse_documents(doc["data"]["metricProviderPlugins"].as_str().unwrap()).unwrap();
    let location = plugins[0][0]["location"].as_str().unwrap();
    assert!(
        location.starts_with("https://") && location.ends_with(&format!("/{name}")),
        "{location}"
    );
    let sha = plugins[0][0]["sha256"].as_str().unwrap();
    assert!(
        sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha}"
    );
}

#[test]
fn release_refuses_unknown_arguments() {
    let out = script().arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument --bogus"));
}
