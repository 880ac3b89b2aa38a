//! The `.part` file, laid out as Django's `FileSystemStorage` lays it out.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use md5::{Digest, Md5};
use rand::Rng;

use crate::django::DjangoVersion;

/// How files are created, from the Django settings.
#[derive(Debug, Clone)]
pub struct Storage {
    pub media_root: PathBuf,
    pub upload_path: String,
    pub time_zone: Tz,
    pub file_permissions: Option<u32>,
    pub directory_permissions: Option<u32>,
    pub version: DjangoVersion,
}

impl Storage {
    /// `chunked_upload.settings.default_upload_to`: `time.strftime` of
    /// `CHUNKED_UPLOAD_PATH/<upload_id>.part` in `TIME_ZONE` local time
    /// (Django sets `TZ` to `TIME_ZONE`), whatever `USE_TZ` says.
    pub fn upload_to(&self, upload_id: &str, now: DateTime<Utc>) -> String {
        let local = now.with_timezone(&self.time_zone);
        let pattern = format!(
            "{}/{}.part",
            self.upload_path.trim_end_matches('/'),
            upload_id
        );
        local.format(&pattern).to_string()
    }

    pub fn full_path(&self, name: &str) -> PathBuf {
        self.media_root.join(name)
    }

    /// `FieldFile.save(name, ContentFile(''))`: validate and normalise the
    /// name, pick an available one, create the directories and an empty file
    /// with Django's modes. Returns the name relative to MEDIA_ROOT (`/`-separated).
    pub fn create_empty(&self, name: &str) -> io::Result<String> {
        self.create_empty_tracked(name, &mut Vec::new())
    }

    /// `create_empty`, recording the directories it had to create (deepest
    /// last) so that an abandoned new upload can be removed without a trace.
    pub fn create_empty_tracked(
        &self,
        name: &str,
        created_dirs: &mut Vec<PathBuf>,
    ) -> io::Result<String> {
        let name = normalise_name(name)?;
        let mut candidate = name.clone();
        loop {
            let full = self.full_path(&candidate);
            if let Some(dir) = full.parent() {
                self.make_dirs(dir, created_dirs)?;
            }
            if full.exists() || candidate.len() > 255 {
                candidate = self.alternative_name(&name);
                continue;
            }
            // FileSystemStorage._save: O_WRONLY|O_CREAT|O_EXCL, 0o666 before umask.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&full)
            {
                Ok(f) => drop(f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    candidate = self.alternative_name(&name);
                    continue;
                }
                Err(e) => return Err(e),
            }
            if let Some(mode) = self.file_permissions {
                fs::set_permissions(&full, fs::Permissions::from_mode(mode))?;
            }
            if self.version.is_4_or_later() {
                self.copy_media_root_group(&full);
            }
            return Ok(candidate);
        }
    }

    /// `os.makedirs`, with `FILE_UPLOAD_DIRECTORY_PERMISSIONS` applied to each
    /// directory it creates (not to existing ones).
    fn make_dirs(&self, dir: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.make_dirs(parent, created)?;
        }
        match fs::create_dir(dir) {
            Ok(()) => {
                created.push(dir.to_owned());
                if let Some(mode) = self.directory_permissions {
                    fs::set_permissions(dir, fs::Permissions::from_mode(mode))?;
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Django 4.2+ `FileSystemStorage._save`: chown the file's group to
    /// MEDIA_ROOT's when they differ, ignoring errors.
    fn copy_media_root_group(&self, full: &Path) {
        let (Ok(root), Ok(file)) = (fs::metadata(&self.media_root), fs::metadata(full)) else {
            return;
        };
        if root.gid() != file.gid() {
            let _ = std::os::unix::fs::chown(full, None, Some(root.gid()));
        }
    }

    /// `Storage.get_available_name`: `<root>_<7 random alphanumerics><ext>`,
    /// where ext is `splitext`'s (3.2, 4.2) or all suffixes joined (5.2+).
    fn alternative_name(&self, name: &str) -> String {
        let (dir, file) = match name.rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f),
            None => (String::new(), name),
        };
        let split_at = if self.version >= DjangoVersion::V5_2 {
            // pathlib suffixes: everything from the first dot after a leading one.
            file.char_indices()
                .skip(1)
                .find(|(_, c)| *c == '.')
                .map(|(i, _)| i)
        } else {
            file.rfind('.').filter(|i| *i > 0)
        };
        let (root, ext) = match split_at {
            Some(i) => (&file[..i], &file[i..]),
            None => (file, ""),
        };
        const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = rand::thread_rng();
        let suffix: String = (0..7)
            .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
            .collect();
        format!("{dir}{root}_{suffix}{ext}")
    }

    /// Remove a file this request created, and the directories it created
    /// for it (only if they are empty again).
    pub fn remove_created(&self, name: &str, created_dirs: &[PathBuf]) {
        let _ = fs::remove_file(self.full_path(name));
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }

    /// Cut the file back to `len` bytes (undo a chunk that was not accepted).
    pub fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        OpenOptions::new()
            .write(true)
            .open(self.full_path(name))?
            .set_len(len)
    }

    /// Open the `.part` file to write a chunk at `offset`: bytes past it (a
    /// crashed or refused chunk) are cut first. A file that is missing or
    /// shorter than `offset` is refused (`ShortFile`): Django would append
    /// at its end and every later byte would land in the wrong place.
    pub fn open_at(&self, name: &str, offset: u64) -> io::Result<File> {
        // `open(path, 'ab')` creates a missing file, 0o666 before umask.
        let file = OpenOptions::new()
            .write(true)
            .create(offset == 0)
            .truncate(false)
            .mode(0o666)
            .open(self.full_path(name))
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => short_file(name, 0, offset),
                _ => e,
            })?;
        let len = file.metadata()?.len();
        if len < offset {
            return Err(short_file(name, len, offset));
        }
        if len > offset {
            file.set_len(offset)?;
        }
        Ok(file)
    }

    /// The md5 of the first `len` bytes of the file.
    pub fn md5_prefix(&self, name: &str, len: u64) -> io::Result<Md5> {
        let file = File::open(self.full_path(name))?;
        let mut hasher = Md5::new();
        let mut reader = file.take(len);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher)
    }

    pub fn len(&self, name: &str) -> io::Result<u64> {
        Ok(fs::metadata(self.full_path(name))?.len())
    }

    /// `ChunkedUpload.md5`: the md5 of the whole file as it is on disk.
    pub fn md5_hex(&self, name: &str) -> io::Result<String> {
        let mut file = File::open(self.full_path(name))?;
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hex(&hasher.finalize()))
    }

    /// `storage.delete(path)`: a missing file is not an error.
    pub fn delete(&self, name: &str) -> io::Result<()> {
        match fs::remove_file(self.full_path(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The error `open_at` gives for a missing or short `.part` file.
#[derive(Debug)]
pub struct ShortFile {
    pub len: u64,
    pub offset: u64,
}

impl std::fmt::Display for ShortFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file holds {} bytes but its upload records {}",
            self.len, self.offset
        )
    }
}

impl std::error::Error for ShortFile {}

fn short_file(name: &str, len: u64, offset: u64) -> io::Error {
    tracing::error!("{name}: missing or shorter than its recorded offset ({len} < {offset})");
    io::Error::new(io::ErrorKind::InvalidData, ShortFile { len, offset })
}

/// Whether an I/O error is `open_at`'s refusal of a short file.
pub fn is_short_file(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<ShortFile>())
}

/// What a `ChunkWriter` leaves: the file, the bytes written, the md5 state.
#[derive(Debug)]
pub struct Written {
    pub file: File,
    pub size: u64,
    pub md5: Option<Md5>,
}

/// Writes a chunk as it arrives: the async side hands over pieces through a
/// bounded channel (constant memory), a blocking thread writes them at the
/// position and advances the md5, so hashing overlaps with receiving.
pub struct ChunkWriter {
    sender: Option<tokio::sync::mpsc::Sender<bytes::Bytes>>,
    handle: tokio::task::JoinHandle<io::Result<Written>>,
}

impl ChunkWriter {
    pub fn start(mut file: File, at: u64, md5: Option<Md5>, fsync: bool) -> ChunkWriter {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
        let handle = tokio::task::spawn_blocking(move || {
            file.seek(SeekFrom::Start(at))?;
            let mut md5 = md5;
            let mut size = 0u64;
            while let Some(piece) = receiver.blocking_recv() {
                file.write_all(&piece)?;
                if let Some(h) = md5.as_mut() {
                    h.update(&piece);
                }
                size += piece.len() as u64;
            }
            if fsync {
                file.sync_data()?;
            }
            Ok(Written { file, size, md5 })
        });
        ChunkWriter {
            sender: Some(sender),
            handle,
        }
    }

    pub async fn write(&mut self, piece: bytes::Bytes) -> io::Result<()> {
        let sender = self.sender.as_ref().expect("writer open");
        if sender.send(piece).await.is_err() {
            // The thread stopped early: its error says why.
            self.sender = None;
            let handle = std::mem::replace(
                &mut self.handle,
                tokio::task::spawn_blocking(|| Err(io::Error::other("writer gone"))),
            );
            return Err(match handle.await {
                Ok(Err(e)) => e,
                Ok(Ok(_)) => io::Error::other("chunk writer stopped"),
                Err(e) => io::Error::other(e),
            });
        }
        Ok(())
    }

    pub async fn finish(mut self) -> io::Result<Written> {
        self.sender = None;
        self.handle.await.map_err(io::Error::other)?
    }
}

/// Copy `len` bytes of `src` from `src_at` into `dst` at `at`, advancing `md5`.
pub fn copy_into(
    src: &mut File,
    src_at: u64,
    dst: &mut File,
    at: u64,
    len: u64,
    mut md5: Option<&mut Md5>,
) -> io::Result<()> {
    src.seek(SeekFrom::Start(src_at))?;
    dst.seek(SeekFrom::Start(at))?;
    let mut reader = src.take(len);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return dst.flush();
        }
        dst.write_all(&buf[..n])?;
        if let Some(h) = md5.as_deref_mut() {
            h.update(&buf[..n]);
        }
    }
}

/// An md5 state as stored in `chunked_upload_md5_state.state`.
pub fn md5_to_state(h: &Md5) -> Vec<u8> {
    use md5::digest::common::hazmat::SerializableState;
    h.serialize().to_vec()
}

pub fn md5_from_state(bytes: &[u8]) -> Option<Md5> {
    use md5::digest::common::hazmat::SerializableState;
    let arr = bytes.try_into().ok()?;
    Md5::deserialize(arr).ok()
}

pub fn md5_hex_of(h: &Md5) -> String {
    hex(&h.clone().finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `FileField.generate_filename` + `Storage.generate_filename`: refuse
/// absolute names and `..`, `\` → `/`, `os.path.normpath`.
fn normalise_name(name: &str) -> io::Result<String> {
    let name = name.replace('\\', "/");
    let path = Path::new(&name);
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("detected path traversal attempt in {name:?}"),
                ))
            }
        }
    }
    if parts.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty file name",
        ));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn storage(root: &Path, tz: &str) -> Storage {
        Storage {
            media_root: root.to_owned(),
            upload_path: "chunked_uploads/%Y/%m/%d".into(),
            time_zone: tz.parse().unwrap(),
            file_permissions: Some(0o644),
            directory_permissions: None,
            version: DjangoVersion::V5_2,
        }
    }

    #[test]
    fn path_date_is_time_zone_local() {
        let dir = tempfile::tempdir().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        assert_eq!(
            storage(dir.path(), "UTC").upload_to("ab", t),
            "chunked_uploads/2026/11/25/ab.part"
        );
        assert_eq!(
            storage(dir.path(), "America/New_York").upload_to("ab", t),
            "chunked_uploads/2026/11/24/ab.part"
        );
    }

    #[test]
    fn create_empty_uses_djangos_modes_and_avoids_collisions() {
        let dir = tempfile::tempdir().unwrap();
        let s = storage(dir.path(), "UTC");
        let a = s.create_empty("x/y/abc.part").unwrap();
        assert_eq!(a, "x/y/abc.part");
        let meta = fs::metadata(dir.path().join(&a)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(meta.len(), 0);
        let b = s.create_empty("x/y/abc.part").unwrap();
        assert!(
            b.starts_with("x/y/abc_") && b.ends_with(".part") && b.len() == a.len() + 8,
            "{b}"
        );
        assert!(s.create_empty("../evil.part").is_err());
        assert!(s.create_empty("/abs.part").is_err());
    }

    #[test]
    fn writing_at_the_offset_cuts_what_lies_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = storage(dir.path(), "UTC");
        let name = s.create_empty("p.part").unwrap();
        let mut src = tempfile::tempfile().unwrap();
        src.write_all(b"hello").unwrap();
        let mut dst = s.open_at(&name, 0).unwrap();
        let mut h = Md5::new();
        copy_into(&mut src, 0, &mut dst, 0, 5, Some(&mut h)).unwrap();
        let mut src2 = tempfile::tempfile().unwrap();
        src2.write_all(b"..XY").unwrap();
        let mut dst = s.open_at(&name, 3).unwrap();
        copy_into(&mut src2, 2, &mut dst, 3, 2, None).unwrap();
        assert_eq!(fs::read(dir.path().join(&name)).unwrap(), b"helXY");
        assert_eq!(s.md5_hex(&name).unwrap(), hex(&Md5::digest(b"helXY")));
        assert_eq!(md5_hex_of(&h), hex(&Md5::digest(b"hello")));
    }

    #[test]
    fn md5_state_round_trips_mid_block() {
        let mut h = Md5::new();
        h.update(b"abc");
        let mut resumed = md5_from_state(&md5_to_state(&h)).unwrap();
        resumed.update(b"def");
        assert_eq!(md5_hex_of(&resumed), hex(&Md5::digest(b"abcdef")));
        assert!(md5_from_state(b"short").is_none());
    }
}
