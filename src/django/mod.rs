//! The Django compatibility layer: everything whose bytes must match what
//! Django itself does. Each file is named after the Django module it mirrors.

pub mod cache; // django/core/cache/backends/redis.py, django_redis (what the session engines use)
pub mod cookies; // django/http/cookie.py, http/response.py set_cookie, http.cookies.Morsel
pub mod csrf; // django/middleware/csrf.py (the middleware decisions)
pub mod csrf_token; // django/middleware/csrf.py (token format, mask/unmask)
pub mod form; // django/http/request.py _load_post_and_files (request.POST / request.FILES)
pub mod host; // django/http/request.py get_host, validate_host
pub mod json; // django/core/serializers/json.py DjangoJSONEncoder, Python json.dumps
pub mod multipart; // django/http/multipartparser.py
pub mod pages; // django/views/defaults.py, django/views/csrf.py
pub mod pickle; // Lib/pickle.py + Modules/_pickle.c (what the cache backends store)
pub mod session; // django/contrib/sessions/middleware.py + django/contrib/auth get_user
pub mod session_backends; // django/contrib/sessions/backends/*.py
pub mod signing; // django/core/signing.py, django/utils/crypto.py salted_hmac
pub mod timezone; // django/utils/timezone.py (USE_TZ, TIME_ZONE)
pub mod upload_name; // django/http/multipartparser.py + core/files/uploadedfile.py name rules
pub mod version;

pub use version::DjangoVersion;
