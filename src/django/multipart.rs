//! A streaming port of Django's `MultiPartParser` (`django/http/multipartparser.py`).
//!
//! Hand-written because the bytes Django accepts are not RFC 7578's: parts are
//! cut at every `--boundary` (not only after CRLF), a part whose headers do not
//! end within 1024 bytes is ignored (3.2, 4.2) or refused (5.2+), a part with
//! no Content-Disposition is "RAW" and still counts as a field, `filename=""`
//! makes a field, and files are counted before their names are checked.
//! multer normalises all of these away. Memory stays bounded: file data is
//! handed out piece by piece, field data is capped at DATA_UPLOAD_MAX_MEMORY_SIZE.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use super::{upload_name, DjangoVersion};

/// Django's `MAX_TOTAL_HEADER_SIZE` / 3.2's `max_header_size`.
const MAX_HEADER_SIZE: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `MultiPartParserError` → 400 page.
    Malformed(String),
    /// `TooManyFieldsSent`, `TooManyFilesSent`, `RequestDataTooBig`
    /// (SuspiciousOperation) → 400 page.
    Suspicious(String),
    /// The body could not be read (client went away).
    Unreadable(String),
    /// Storing a file part failed on our side (disk, database) → 500.
    Internal(String),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_memory_size: Option<u64>,
    pub max_number_fields: Option<u64>,
    pub max_number_files: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Field {
        name: String,
        value: String,
    },
    /// A file part; read its data with `next_file_chunk` until `None`.
    File {
        field_name: String,
        file_name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartType {
    Raw,
    Field,
    File,
}

/// `parse_header_parameters` / 3.2 `parse_header`: the main value (lower-cased)
/// and the parameters, names lower-cased, quotes removed, RFC 2231 decoded.
pub fn parse_header_parameters(line: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = Vec::new();
    let mut rest = line;
    loop {
        // Split on ';' outside double quotes (`_parse_header_params`).
        let mut end = None;
        let mut quotes = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quotes += 1,
                ';' if quotes % 2 == 0 => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        match end {
            Some(i) => {
                pieces.push(rest[..i].trim());
                rest = &rest[i + 1..];
            }
            None => {
                pieces.push(rest.trim());
                break;
            }
        }
    }
    let key = pieces.first().map(|s| s.to_lowercase()).unwrap_or_default();
    let mut params: Vec<(String, String)> = Vec::new();
    let mut starred: Vec<(String, String)> = Vec::new();
    for p in pieces.iter().skip(1) {
        let Some(eq) = p.find('=') else { continue };
        let mut name = p[..eq].trim().to_lowercase();
        let mut value = p[eq + 1..].trim().to_owned();
        let extended = name.ends_with('*');
        if extended {
            name.pop();
        }
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = value[1..value.len() - 1]
                .replace("\\\\", "\\")
                .replace("\\\"", "\"");
        }
        if extended && value.matches('\'').count() == 2 {
            let mut it = value.splitn(3, '\'');
            let charset = it.next().unwrap_or("").to_ascii_lowercase();
            let _lang = it.next();
            let encoded = it.next().unwrap_or("");
            let raw: Vec<u8> = percent_encoding::percent_decode_str(encoded).collect();
            value = if charset == "utf-8" || charset == "utf8" {
                String::from_utf8_lossy(&raw).into_owned()
            } else {
                raw.iter().map(|&b| b as char).collect()
            };
            starred.push((name, value));
        } else {
            params.push((name, value));
        }
    }
    // `filename*=` wins over `filename=` (email.message.Message.get_param).
    for (name, value) in starred {
        params.retain(|(n, _)| *n != name);
        params.push((name, value));
    }
    (key, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The boundary of a `multipart/…` Content-Type, validated as Django does.
pub fn boundary(content_type: &str) -> Result<String, ParseError> {
    if !content_type.starts_with("multipart/") {
        return Err(ParseError::Malformed(format!(
            "Invalid Content-Type: {content_type}"
        )));
    }
    if !content_type.is_ascii() {
        return Err(ParseError::Malformed(
            "Invalid non-ASCII Content-Type in multipart".into(),
        ));
    }
    let (_, params) = parse_header_parameters(content_type);
    let b = param(&params, "boundary").unwrap_or("");
    // `[ -~]{0,200}[!-~]` (fullmatch).
    let valid = !b.is_empty()
        && b.len() <= 201
        && b.bytes().all(|c| (b' '..=b'~').contains(&c))
        && b.as_bytes()[b.len() - 1] != b' ';
    if !valid {
        return Err(ParseError::Malformed(format!(
            "Invalid boundary in multipart: {b}"
        )));
    }
    Ok(b.to_owned())
}

pub struct MultipartParser<S> {
    stream: S,
    buf: BytesMut,
    eof: bool,
    separator: Vec<u8>,
    version: DjangoVersion,
    limits: Limits,
    /// Inside a part's data (after its headers) until the next separator.
    in_data: bool,
    num_post_keys: u64,
    num_files: u64,
    field_bytes: u64,
    /// Inside a base64 file part: the undecoded remainder.
    file_base64: Option<Vec<u8>>,
    /// Parts begun so far, RAW ones included.
    parts_begun: u64,
    finder: memchr::memmem::Finder<'static>,
}

impl<S, E> MultipartParser<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    pub fn new(stream: S, boundary: &str, version: DjangoVersion, limits: Limits) -> Self {
        let separator = [b"--".as_slice(), boundary.as_bytes()].concat();
        let finder = memchr::memmem::Finder::new(&separator).into_owned();
        MultipartParser {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            eof: false,
            separator,
            version,
            limits,
            in_data: false,
            num_post_keys: 0,
            num_files: 0,
            field_bytes: 0,
            file_base64: None,
            parts_begun: 0,
            finder,
        }
    }

    /// Pull more bytes; false at end of body.
    async fn fill(&mut self) -> Result<bool, ParseError> {
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.stream.next().await {
                None => {
                    self.eof = true;
                    return Ok(false);
                }
                Some(Err(e)) => return Err(ParseError::Unreadable(e.to_string())),
                Some(Ok(b)) if b.is_empty() => continue,
                Some(Ok(b)) => {
                    self.buf.extend_from_slice(&b);
                    return Ok(true);
                }
            }
        }
    }

    /// The next piece of the current part's data, or `None` at its end
    /// (`BoundaryIter`): the CR LF (or lone LF) before the separator is dropped.
    async fn next_data(&mut self) -> Result<Option<Bytes>, ParseError> {
        if !self.in_data {
            return Ok(None);
        }
        let hold = self.separator.len() + 6;
        // Where the separator could still start: scanning resumes there after
        // each fill, so a body trickling in byte by byte stays linear.
        let mut searched = 0;
        loop {
            if let Some(idx) = self
                .finder
                .find(&self.buf[searched..])
                .map(|i| i + searched)
            {
                let mut end = idx;
                if end > 0 && self.buf[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > 0 && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                let data = self.buf.split_to(end).freeze();
                self.buf.advance(idx - end + self.separator.len());
                self.in_data = false;
                return Ok(if data.is_empty() { None } else { Some(data) });
            }
            if self.buf.len() > hold * 2 && (self.buf.len() >= 64 * 1024 || self.eof) {
                // Pieces of at most 256 KiB keep what is queued per chunk small.
                let n = (self.buf.len() - hold).min(256 * 1024);
                return Ok(Some(self.buf.split_to(n).freeze()));
            }
            searched = self.buf.len().saturating_sub(self.separator.len() - 1);
            if !self.fill().await? {
                self.in_data = false;
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.buf.split().freeze()));
            }
        }
    }

    async fn skip_data(&mut self) -> Result<(), ParseError> {
        while self.next_data().await?.is_some() {}
        Ok(())
    }

    /// How many parts (RAW ones included) have begun. Django completes a
    /// file only when the next part begins (`handle_file_complete` at the top
    /// of the loop), so a file that nothing follows is dropped.
    pub fn parts_begun(&self) -> u64 {
        self.parts_begun
    }

    /// Data of the current file part, piece by piece. Base64 parts are
    /// decoded in runs of 64 KiB (whitespace dropped), whatever pieces the
    /// network delivered, and an incomplete last quantum is an error
    /// (5.2 `MultiPartParser._parse`, "Could not decode base64 data.").
    pub async fn next_file_chunk(&mut self) -> Result<Option<Bytes>, ParseError> {
        const RUN: usize = 64 * 1024;
        if self.file_base64.is_none() {
            return self.next_data().await;
        }
        let bad = || ParseError::Malformed("Could not decode base64 data.".into());
        let strict = self.version >= DjangoVersion::V6_1;
        let decode = |run: &[u8]| {
            if strict && !is_strict_base64(run) {
                return Err(bad());
            }
            super::signing::python_a2b_base64(run)
                .map(Bytes::from)
                .ok_or_else(bad)
        };
        loop {
            let carry = self.file_base64.as_mut().expect("base64 part");
            if carry.len() >= RUN {
                let run: Vec<u8> = carry.drain(..RUN).collect();
                return decode(&run).map(Some);
            }
            match self.next_data().await? {
                Some(piece) => {
                    let carry = self.file_base64.as_mut().expect("base64 part");
                    carry.extend(piece.iter().filter(|b| !b.is_ascii_whitespace()));
                }
                None => {
                    let left = self.file_base64.take().unwrap_or_default();
                    if left.is_empty() {
                        return Ok(None);
                    }
                    if !left.len().is_multiple_of(4) {
                        return Err(bad());
                    }
                    return decode(&left).map(Some);
                }
            }
        }
    }

    fn count_field(&mut self) -> Result<(), ParseError> {
        self.num_post_keys += 1;
        if let Some(max) = self.limits.max_number_fields {
            // "2 accounts for empty raw fields before and after the last boundary."
            if max + 2 < self.num_post_keys {
                return Err(ParseError::Suspicious(
                    "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.".into(),
                ));
            }
        }
        Ok(())
    }

    /// The next field or file part (`Parser` + `parse_boundary_stream` +
    /// `MultiPartParser._parse`), or `None` at the end of the body.
    pub async fn next_part(&mut self) -> Result<Option<Part>, ParseError> {
        loop {
            self.skip_data().await?;
            // `BoundaryIter.__init__`: nothing left means the parse is over.
            while self.buf.is_empty() {
                if !self.fill().await? {
                    return Ok(None);
                }
            }
            self.parts_begun += 1;
            // Enough to see the first 1024 bytes of this part, or its end.
            while self.buf.len() < MAX_HEADER_SIZE + self.separator.len() + 2 && self.fill().await?
            {
            }
            let part_end = match self.finder.find(&self.buf) {
                Some(idx) => {
                    let mut end = idx;
                    if end > 0 && self.buf[end - 1] == b'\n' {
                        end -= 1;
                    }
                    if end > 0 && self.buf[end - 1] == b'\r' {
                        end -= 1;
                    }
                    end
                }
                None => self.buf.len(),
            };
            let window = &self.buf[..part_end.min(MAX_HEADER_SIZE)];
            self.in_data = true;
            let Some(header_end) = memchr::memmem::find(window, b"\r\n\r\n") else {
                if window.len() >= MAX_HEADER_SIZE && self.version >= DjangoVersion::V5_2 {
                    return Err(ParseError::Malformed(
                        "Request max total header size exceeded.".into(),
                    ));
                }
                self.count_field()?; // RAW
                continue;
            };
            let header = self.buf.split_to(header_end).freeze();
            self.buf.advance(4);

            let mut kind = PartType::Raw;
            let mut disposition: Option<Vec<(String, String)>> = None;
            let mut base64 = false;
            for line in header.split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let text = match std::str::from_utf8(line) {
                    Ok(t) => t.to_owned(),
                    // 4.2+: `line.decode()` fails and the line is skipped;
                    // 3.2 parses bytes and decodes values with replacement.
                    Err(_) if self.version.is_4_or_later() => continue,
                    Err(_) => String::from_utf8_lossy(line).into_owned(),
                };
                let (main, params) = parse_header_parameters(&text);
                let Some((name, value)) = main.split_once(':') else {
                    continue;
                };
                match name {
                    "content-disposition" => {
                        kind = if param(&params, "filename").is_some_and(|f| !f.is_empty()) {
                            PartType::File
                        } else {
                            PartType::Field
                        };
                        disposition = Some(params);
                    }
                    "content-transfer-encoding" => base64 = value.trim() == "base64",
                    _ => {}
                }
            }

            if kind != PartType::File {
                self.count_field()?;
            }
            let Some(params) = disposition else {
                continue; // RAW
            };
            let Some(field_name) = param(&params, "name").map(|n| n.trim().to_owned()) else {
                continue;
            };
            match kind {
                PartType::Raw => continue,
                PartType::Field => {
                    let value = self.read_field(&field_name, base64).await?;
                    return Ok(Some(Part::Field {
                        name: field_name,
                        value,
                    }));
                }
                PartType::File => {
                    self.num_files += 1;
                    if let Some(max) = self.limits.max_number_files {
                        if self.num_files > max {
                            return Err(ParseError::Suspicious(
                                "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES.".into(),
                            ));
                        }
                    }
                    let raw_name = param(&params, "filename").unwrap_or("");
                    let Some(file_name) = upload_name::sanitize(raw_name, self.version) else {
                        continue;
                    };
                    self.file_base64 = base64.then(Vec::new);
                    return Ok(Some(Part::File {
                        field_name,
                        file_name,
                    }));
                }
            }
        }
    }

    /// A field's value, reading at most what DATA_UPLOAD_MAX_MEMORY_SIZE leaves.
    async fn read_field(&mut self, name: &str, base64: bool) -> Result<String, ParseError> {
        let read_size = self
            .limits
            .max_memory_size
            .map(|m| m.saturating_sub(self.field_bytes) as usize);
        let mut data = Vec::new();
        while let Some(piece) = self.next_data().await? {
            let room = read_size.map_or(piece.len(), |r| r.saturating_sub(data.len()));
            data.extend_from_slice(&piece[..piece.len().min(room)]);
        }
        self.field_bytes += data.len() as u64;
        // 6.1 decodes with `validate=True`: a field with any other byte
        // (line breaks included) keeps its raw text.
        let decodable = self.version < DjangoVersion::V6_1 || is_strict_base64(&data);
        let data = if base64 && decodable {
            super::signing::python_a2b_base64(&data).unwrap_or(data)
        } else {
            data
        };
        // "Add two here to make the check consistent with the urlencoded check."
        self.field_bytes += name.len() as u64 + 2;
        if let Some(max) = self.limits.max_memory_size {
            if self.field_bytes > max {
                return Err(ParseError::Suspicious(
                    "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.".into(),
                ));
            }
        }
        Ok(String::from_utf8_lossy(&data).into_owned())
    }
}

/// `base64.b64decode(data, validate=True)` would accept it (Django 6.1):
/// only the alphabet, then at most two `=` that complete the last quantum.
fn is_strict_base64(data: &[u8]) -> bool {
    let body_len = data.len() - data.iter().rev().take_while(|b| **b == b'=').count();
    let (body, pad) = data.split_at(body_len);
    pad.len() <= 2
        && data.len().is_multiple_of(4)
        && body
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn parser(
        body: &[u8],
        chunk: usize,
    ) -> MultipartParser<impl Stream<Item = Result<Bytes, String>> + Unpin> {
        let pieces: Vec<Result<Bytes, String>> = body
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        MultipartParser::new(
            stream::iter(pieces),
            "XyZ",
            DjangoVersion::V5_2,
            Limits {
                max_memory_size: Some(2_621_440),
                max_number_fields: Some(1000),
                max_number_files: Some(100),
            },
        )
    }

    async fn collect<S, E>(p: &mut MultipartParser<S>) -> Result<Vec<(Part, Vec<u8>)>, ParseError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut out = Vec::new();
        while let Some(part) = p.next_part().await? {
            let mut data = Vec::new();
            if matches!(part, Part::File { .. }) {
                while let Some(c) = p.next_file_chunk().await? {
                    data.extend_from_slice(&c);
                }
            }
            out.push((part, data));
        }
        Ok(out)
    }

    fn body(file: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\nabc\r\n",
        );
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        b.extend_from_slice(file);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    }

    #[tokio::test]
    async fn fields_and_files_at_any_read_size() {
        let file: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for chunk in [1, 7, 100, 4096, 1 << 20] {
            let mut p = parser(&body(&file), chunk);
            let parts = collect(&mut p).await.unwrap();
            assert_eq!(parts.len(), 2, "chunk {chunk}");
            assert_eq!(
                parts[0].0,
                Part::Field {
                    name: "upload_id".into(),
                    value: "abc".into()
                }
            );
            assert_eq!(
                parts[1].0,
                Part::File {
                    field_name: "file".into(),
                    file_name: "a b.txt".into()
                }
            );
            assert!(parts[1].1 == file, "chunk {chunk}");
        }
    }

    #[tokio::test]
    async fn empty_filename_is_a_field_and_missing_disposition_is_raw() {
        let b = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\nxx\r\n--XyZ\r\nX-Other: 1\r\n\r\nyy\r\n--XyZ--\r\n";
        let parts = collect(&mut parser(b, 3)).await.unwrap();
        assert_eq!(
            parts,
            vec![(
                Part::Field {
                    name: "file".into(),
                    value: "xx".into()
                },
                vec![]
            )]
        );
    }

    #[tokio::test]
    async fn too_many_files_and_fields() {
        let mut b = Vec::new();
        for _ in 0..101 {
            b.extend_from_slice(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx\r\n",
            );
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        assert!(matches!(
            collect(&mut parser(&b, 999)).await,
            Err(ParseError::Suspicious(_))
        ));
        let mut b = Vec::new();
        for _ in 0..1001 {
            b.extend_from_slice(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n",
            );
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        assert!(matches!(
            collect(&mut parser(&b, 999)).await,
            Err(ParseError::Suspicious(_))
        ));
    }

    #[tokio::test]
    async fn long_header_block_refused_on_5_2() {
        let mut b = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".to_vec();
        b.extend(std::iter::repeat_n(b'a', 1100));
        b.extend_from_slice(b"\"\r\n\r\n");
        b.extend(std::iter::repeat_n(b'z', 2000));
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        assert!(matches!(
            collect(&mut parser(&b, 512)).await,
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn header_parameters() {
        let (k, p) = parse_header_parameters("Content-Disposition: form-data; name=\"a;b\"; filename*=UTF-8''caf%C3%A9.txt; filename=\"x\"");
        assert_eq!(k, "content-disposition: form-data");
        assert_eq!(param(&p, "name"), Some("a;b"));
        assert_eq!(param(&p, "filename"), Some("café.txt"));
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").unwrap(),
            "XyZ"
        );
        assert!(boundary("multipart/form-data").is_err());
        assert!(boundary("text/plain; boundary=a").is_err());
    }
}
