//! The name Django gives an uploaded file part (`chunk.name`).
//! STUB: interface fixed; implementation pending.

use super::DjangoVersion;

/// `MultiPartParser` then `UploadedFile.name` setter: `html.unescape`, keep
/// what follows the last `/` then the last `\`, drop non-printable characters
/// (4.2+), reject `""`/`.`/`..` (→ `None`: the part is skipped), then
/// `os.path.basename` and cut to 255 code points keeping the `splitext` ext.
pub fn sanitize(_raw: &str, _version: DjangoVersion) -> Option<String> {
    todo!()
}
