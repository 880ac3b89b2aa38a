//! Persistence shared with Django: the `chunked_upload_chunkedupload` row in
//! PostgreSQL and the `.part` file under `MEDIA_ROOT`.

pub mod db;
pub mod files;
pub mod migrate;
