//! The standalone `engine` binary: where it agrees to listen.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn engine(dir: &tempfile::TempDir, bind: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_engine"));
    command
        .env_clear()
        .arg("--database")
        .arg(dir.path().join("engine.db"))
        .arg("--bind")
        .arg(bind)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn the_binary_listens_on_loopback_only_unless_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = engine(&dir, "0.0.0.0:0").spawn().expect("runs");
    // An engine that does not refuse would serve for ever: give it ten seconds to exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("polls").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("stopped");
            panic!("a public bind without --allow-public-bind was served");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = child.wait_with_output().expect("exited");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("0.0.0.0:0 is not a loopback address")
            && stderr.contains("--allow-public-bind"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("engine.db").exists(),
        "refused before opening anything"
    );

    // Asked for through the environment: it serves.
    let mut child = engine(&dir, "0.0.0.0:0")
        .env("ENGINE_ALLOW_PUBLIC_BIND", "1")
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    // Its logs share stdout with the line announcing the address.
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("engine listening on "));
    child.kill().expect("stopped");
    child.wait().expect("reaped");
    let line = listening.expect("it announced its address");
    assert!(
        line.starts_with("engine listening on http://0.0.0.0:"),
        "{line}"
    );
}
