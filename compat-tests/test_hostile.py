"""Hostile and broken input: each answered exactly as Django answers it, and
nothing written where Django writes nothing."""
from compatlib import Request

D = 'django'


def _truncate(req, keep):
    return Request(req.method, req.path, req.headers, req.body[:keep])


def test_body_cut_inside_the_file_data(site, alice):
    req = alice.chunk(b'x' * 5000)
    # Content-Length matches what is sent; the closing boundary never comes.
    cut = req.body.index(b'x' * 5000) + 3000
    site.step(_truncate(req, cut), drive=D)


def test_body_cut_inside_the_part_headers(site, alice):
    req = alice.chunk(b'hello')
    cut = req.body.index(b'filename=') + 4
    site.step(_truncate(req, cut), drive=D)


def test_body_cut_right_after_the_first_boundary(site, alice):
    req = alice.chunk(b'hello')
    boundary_line = req.body.split(b'\r\n', 1)[0]
    site.step(_truncate(req, len(boundary_line)), drive=D)


def test_multipart_with_only_the_closing_boundary(site, alice):
    req = alice.chunk(b'hello', csrf='header')
    boundary = req.body.split(b'\r\n', 1)[0]
    site.step(Request(req.method, req.path, req.headers, boundary + b'--\r\n'), drive=D)


def test_upload_id_that_looks_like_sql(site, alice):
    r = site.step(alice.chunk(b'data', upload_id="' OR '1'='1'; DROP TABLE chunked_upload_chunkedupload; --"),
                  drive=D)
    assert r.status == 404


def test_upload_id_with_a_nul_character(site, alice):
    # PostgreSQL cannot hold NUL in text: both answer with a server error page.
    r = site.step(alice.chunk(b'data', upload_id='abc\x00def'), drive=D)
    assert r.status == 500


def test_complete_with_sql_and_very_long_values(site, alice):
    r = site.step(alice.complete("1' OR 1=1 --" * 50, 'f' * 10000), drive=D)
    assert r.status == 404


def test_garbage_body_with_a_multipart_content_type(site, alice):
    req = alice.chunk(b'hello')
    junk = bytes(range(256)) * 20
    site.step(Request(req.method, req.path, req.headers, junk), drive=D)
