//! `request.POST` / `request.FILES` as `HttpRequest._load_post_and_files`
//! builds them. File data is never held: it streams to a `FileSink`.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::multipart::{self, Limits, MultipartParser, ParseError, Part};
use super::DjangoVersion;

#[derive(Debug, Default)]
pub struct FormData {
    pub post: Vec<(String, String)>,
}

impl FormData {
    /// `QueryDict.get`: the last value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.post
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where the view wants the data of its file field: `request.FILES.get(name)`
/// is the last such part, so each `start` supersedes the one before.
pub trait FileSink {
    /// A part for the field starts; `fields` are the form fields read so far.
    fn start(
        &mut self,
        fields: &[(String, String)],
        file_name: String,
    ) -> impl std::future::Future<Output = Result<(), ParseError>>;
    fn data(&mut self, piece: Bytes) -> impl std::future::Future<Output = Result<(), ParseError>>;
    fn end(&mut self) -> impl std::future::Future<Output = Result<(), ParseError>>;
    /// The last part ended the body: Django never completes it
    /// (`upload_interrupted`), so `request.FILES` does not hold it.
    fn interrupted(&mut self) -> impl std::future::Future<Output = ()>;
}

/// For views that read no file: every file part is drained.
pub struct NoFiles;

impl FileSink for NoFiles {
    async fn start(&mut self, _: &[(String, String)], _: String) -> Result<(), ParseError> {
        Ok(())
    }
    async fn data(&mut self, _: Bytes) -> Result<(), ParseError> {
        Ok(())
    }
    async fn end(&mut self) -> Result<(), ParseError> {
        Ok(())
    }
    async fn interrupted(&mut self) {}
}

pub struct BodyInfo<'a> {
    pub method: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
}

/// Parse the body as Django would for `request.POST`; the parts of the file
/// field `file_field` go to `sink`.
pub async fn load_post_and_files<S, E, K: FileSink>(
    info: &BodyInfo<'_>,
    body: S,
    version: DjangoVersion,
    limits: Limits,
    file_field: &str,
    sink: &mut K,
) -> Result<FormData, ParseError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if info.method != "POST" {
        return Ok(FormData::default());
    }
    let raw_type = info.content_type.unwrap_or("");
    let (main_type, params) = multipart::parse_header_parameters(raw_type);
    match media_type(raw_type, main_type, version).as_str() {
        "multipart/form-data" => {
            let boundary = multipart::boundary(raw_type)?;
            // A missing or zero CONTENT_LENGTH gives empty POST/FILES unread.
            if info.content_length.unwrap_or(0) == 0 {
                return Ok(FormData::default());
            }
            parse_multipart(body, &boundary, version, limits, file_field, sink).await
        }
        "application/x-www-form-urlencoded" => {
            let charset = params
                .iter()
                .rev()
                .find(|(n, _)| n == "charset")
                .map(|(_, v)| v.to_ascii_lowercase());
            if version.is_4_or_later()
                && charset
                    .as_deref()
                    .is_some_and(|c| c != "utf-8" && c != "utf8")
            {
                return Err(ParseError::Suspicious("HTTP requests with the 'application/x-www-form-urlencoded' content type must be UTF-8 encoded.".into()));
            }
            let data = read_limited(body, info.content_length, limits.max_memory_size).await?;
            Ok(FormData {
                post: parse_urlencoded(&data, version, limits.max_number_fields)?,
            })
        }
        _ => Ok(FormData::default()),
    }
}

/// The media type `_load_post_and_files` compares: 3.2's `cgi.parse_header`
/// keeps its case (so `Multipart/Form-Data` is neither form type), 4.0+'s
/// `parse_header_parameters` lower-cases it (`lowered`).
fn media_type(raw_type: &str, lowered: String, version: DjangoVersion) -> String {
    if version.is_4_or_later() {
        return lowered;
    }
    // The first `;` ends it; one inside quotes could only follow a `"`,
    // which neither form type contains.
    raw_type.split(';').next().unwrap_or("").trim().to_owned()
}

async fn parse_multipart<S, E, K: FileSink>(
    body: S,
    boundary: &str,
    version: DjangoVersion,
    limits: Limits,
    file_field: &str,
    sink: &mut K,
) -> Result<FormData, ParseError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut parser = MultipartParser::new(body, boundary, version, limits);
    let mut form = FormData::default();
    // `parts_begun` when the last wanted file ended; it counts once more begin.
    let mut unconfirmed: Option<u64> = None;
    while let Some(part) = parser.next_part().await? {
        match part {
            Part::Field { name, value } => form.post.push((name, value)),
            Part::File {
                field_name,
                file_name,
            } if field_name == file_field => {
                sink.start(&form.post, file_name).await?;
                while let Some(chunk) = parser.next_file_chunk().await? {
                    sink.data(chunk).await?;
                }
                sink.end().await?;
                unconfirmed = Some(parser.parts_begun());
            }
            Part::File { .. } => while parser.next_file_chunk().await?.is_some() {},
        }
    }
    if unconfirmed.is_some_and(|n| n == parser.parts_begun()) {
        sink.interrupted().await;
    }
    Ok(form)
}

/// `HttpRequest.body` with DATA_UPLOAD_MAX_MEMORY_SIZE enforced.
async fn read_limited<S, E>(
    mut body: S,
    content_length: Option<u64>,
    max: Option<u64>,
) -> Result<Vec<u8>, ParseError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let too_big = || {
        ParseError::Suspicious("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.".into())
    };
    if let (Some(max), Some(len)) = (max, content_length) {
        if len > max {
            return Err(too_big());
        }
    }
    let mut data = Vec::new();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| ParseError::Unreadable(e.to_string()))?;
        data.extend_from_slice(&piece);
        if max.is_some_and(|m| data.len() as u64 > m) {
            return Err(too_big());
        }
    }
    Ok(data)
}

/// `QueryDict(body)`: `&`-separated (3.2 also splits on `;`), `+` is a
/// space, percent-escapes decoded as UTF-8 with replacement, blanks kept.
pub fn parse_urlencoded(
    data: &[u8],
    version: DjangoVersion,
    max_fields: Option<u64>,
) -> Result<Vec<(String, String)>, ParseError> {
    let is_sep = |b: &u8| *b == b'&' || (version == DjangoVersion::V3_2 && *b == b';');
    if let Some(max) = max_fields {
        let n = 1 + data.iter().filter(|b| is_sep(b)).count() as u64;
        if n > max {
            return Err(ParseError::Suspicious(
                "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.".into(),
            ));
        }
    }
    let mut out = Vec::new();
    for piece in data.split(is_sep) {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        };
        let decode = |s: &[u8]| -> String {
            let plus: Vec<u8> = s
                .iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect();
            let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        out.push((decode(k), decode(v)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_like_querydict() {
        let v = parse_urlencoded(
            b"upload_id=ab%20c&md5=x+y&flag&md5=z",
            DjangoVersion::V5_2,
            Some(1000),
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                ("upload_id".into(), "ab c".into()),
                ("md5".into(), "x y".into()),
                ("flag".into(), "".into()),
                ("md5".into(), "z".into()),
            ]
        );
        let v = parse_urlencoded(b"a=1;b=2", DjangoVersion::V3_2, Some(1000)).unwrap();
        assert_eq!(v.len(), 2);
        assert!(parse_urlencoded(b"a=1&b=2&c=3", DjangoVersion::V5_2, Some(2)).is_err());
    }
}
