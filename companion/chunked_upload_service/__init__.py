"""Django companion app for the chunked-upload Rust service.

Add "chunked_upload_service" to INSTALLED_APPS (after "chunked_upload").
This module imports nothing from Django, so that its pure parts
(md5_finish, envfile) can be used and tested without it.
"""
