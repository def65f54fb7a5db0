//! Who may read the database files: the engine's account only. They hold the token signing secret and the
//! password hashes, so a local account that can read them can sign in as anyone.
//!
//! The folder is created 0700 and each SQLite file 0600 before SQLite opens it. SQLite creates the `-wal` and
//! `-shm` files itself, with the permissions of their database file, so those come out 0600 as well (whatever
//! the process umask; the engine does not change it, as it may run inside the console's process). A file or
//! folder found looser (from an older engine, a copy, a restored backup) is tightened, with a warning.

use std::{
    fs, io,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

const FOLDER_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;
/// Permission bits for the group and everyone else.
const OTHERS: u32 = 0o077;
/// The sticky bit: a folder shared by design (`/tmp`), never the engine's own to tighten.
const STICKY: u32 = 0o1000;
/// What SQLite keeps beside a database: the write-ahead log and its shared-memory index.
const COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Makes the database file at `path` private before SQLite opens it: its folder created 0700 (or tightened),
/// the file created 0600 when missing, it and its `-wal`/`-shm` tightened to 0600 when found looser.
pub(crate) fn secure_database_file(path: &Path) -> io::Result<()> {
    // A bare file name lives in the working folder, which is the user's, not the engine's.
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if folder.exists() {
            tighten_folder(folder)?;
        } else {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(FOLDER_MODE)
                .create(folder)?;
        }
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => tighten_file(path)?,
        Err(err) => return Err(err),
    }
    for suffix in COMPANIONS {
        let companion = beside(path, suffix);
        if companion.exists() {
            tighten_file(&companion)?;
        }
    }
    Ok(())
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn tighten_file(path: &Path) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & OTHERS != 0 {
        tracing::warn!(
            file = %path.display(),
            mode = format!("{:o}", mode & 0o7777),
            "a database file was readable by other accounts; tightened to 600"
        );
        fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

fn tighten_folder(folder: &Path) -> io::Result<()> {
    let mode = fs::metadata(folder)?.permissions().mode();
    if mode & OTHERS == 0 {
        return Ok(());
    }
    if mode & STICKY != 0 {
        tracing::warn!(
            folder = %folder.display(),
            "the database lives in a shared folder; its files are private (600), but others can see their names"
        );
        return Ok(());
    }
    tracing::warn!(
        folder = %folder.display(),
        mode = format!("{:o}", mode & 0o7777),
        "the database folder was open to other accounts; tightened to 700"
    );
    fs::set_permissions(folder, fs::Permissions::from_mode(mode & !OTHERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("exists").permissions().mode() & 0o7777
    }

    #[test]
    fn a_missing_folder_and_file_are_created_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a/b/engine.db");
        secure_database_file(&file).expect("secured");
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn loose_files_and_folders_are_tightened_shared_folders_are_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("data");
        fs::create_dir(&folder).expect("created");
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).expect("chmod");
        let file = folder.join("engine.db");
        for path in [file.clone(), beside(&file, "-wal"), beside(&file, "-shm")] {
            fs::write(&path, b"").expect("written");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        secure_database_file(&file).expect("secured");
        assert_eq!(mode(&folder), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            assert_eq!(mode(&beside(&file, suffix)), 0o600, "engine.db{suffix}");
        }

        fs::set_permissions(&folder, fs::Permissions::from_mode(0o1777)).expect("chmod");
        secure_database_file(&file).expect("secured");
        assert_eq!(mode(&folder), 0o1777, "a sticky folder is shared by design");
    }
}
