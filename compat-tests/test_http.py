"""HTTP-level behaviour: methods, URLs, Host, body encodings, multipart quirks."""
from compatlib import File, Field, md5hex, multipart, Request, UPLOAD, COMPLETE, HOST

D, R = 'django', 'rust'


def test_get_is_method_not_allowed(site, alice):
    for path in (UPLOAD, COMPLETE, '/api/chunked_upload'):
        r = site.step(alice.raw('GET', path), drive=R)
        assert r.status == 405


def test_head_is_method_not_allowed(site, alice):
    r = site.step(alice.raw('HEAD', UPLOAD), drive=D)
    assert r.status == 405


def test_options_lists_the_allowed_methods(site, alice):
    r = site.step(alice.raw('OPTIONS', UPLOAD), drive=R)
    assert r.status == 200
    anon = site.anonymous()
    r = site.step(anon.raw('OPTIONS', COMPLETE, cookies={'csrftoken': None}), drive=D)
    assert r.status == 200


def test_unknown_method_is_method_not_allowed(site, alice):
    r = site.step(alice.raw('PROPFIND', UPLOAD, extra_headers=[('X-CSRFToken', alice.csrf)]), drive=R)
    assert r.status in (403, 405)


def test_request_with_host_not_in_allowed_hosts(site, alice):
    r = site.step(alice.chunk(b'data', host='evil.example'), drive=D)
    assert r.status == 400
    r = site.step(alice.raw('GET', UPLOAD, host='evil.example'), drive=R)
    assert r.status == 400


def test_request_with_invalid_host_header(site, alice):
    for host in ('test server', 'testserver:abc', '[::1', 'testserver..'):
        r = site.step(alice.chunk(b'data', host=host), drive=R)
        assert r.status in (200, 400)


def test_allowed_host_variants(site, alice):
    for host in ('testserver:8000', 'TESTSERVER', 'localhost', 'allowed.example', 'a.allowed.example:99'):
        r = site.step(alice.chunk(b'data', host=host), drive=D)
        assert r.status == 200


def test_duplicate_file_parts_last_one_wins(site, alice):
    parts = [File('file', 'first.txt', b'1'), File('file', 'second.txt', b'22')]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status == 200
    assert r.json['offset'] == 2


def test_duplicate_upload_id_fields_last_one_wins(site, alice):
    r = site.step(alice.chunk(b'12345', content_range='bytes 0-4/10'), drive=D)
    uid = r.json['upload_id']
    parts = [Field('upload_id', '0' * 32), Field('upload_id', uid), File('file', 'x', b'67890')]
    r = site.step(alice.chunk(None, parts=parts, content_range='bytes 5-9/10'), drive=R)
    assert r.status == 200
    parts = [Field('upload_id', uid), Field('md5', 'nope'), Field('md5', md5hex(b'1234567890'))]
    r = site.step(alice.chunk(None, parts=parts, path=COMPLETE), drive=D)
    assert r.status == 200


def test_empty_upload_id_field_starts_a_new_upload(site, alice):
    r = site.step(alice.chunk(b'data', upload_id=''), drive=R)
    assert r.status == 200


def test_urlencoded_body_has_no_chunk_file(site, alice):
    body = ('csrfmiddlewaretoken=%s&upload_id=&file=abc' % alice.csrf).encode()
    r = site.step(alice.raw('POST', UPLOAD, body, 'application/x-www-form-urlencoded'), drive=D)
    assert r.status == 400


def test_plain_text_body_with_header_token(site, alice):
    r = site.step(alice.raw('POST', UPLOAD, b'raw bytes', 'application/octet-stream',
                            extra_headers=[('X-CSRFToken', alice.csrf)]), drive=R)
    assert r.status == 400


def test_multipart_with_invalid_boundary(site, alice):
    _, body = multipart([Field('csrfmiddlewaretoken', alice.csrf), File('file', 'a', b'x')])
    for ctype in ('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary="a b "'):
        r = site.step(alice.raw('POST', UPLOAD, body, ctype), drive=D)
        assert r.status in (400, 403)


def test_multipart_with_lf_only_line_endings(site, alice):
    ctype, body = multipart([Field('csrfmiddlewaretoken', alice.csrf), File('file', 'a.txt', b'x')])
    r = site.step(alice.raw('POST', UPLOAD, body.replace(b'\r\n', b'\n'), ctype,
                            extra_headers=[('X-CSRFToken', alice.csrf)]), drive=R)
    assert r.status == 400


def test_too_many_files(site, alice):
    parts = [File('file', 'f%d.txt' % i, b'x') for i in range(101)]
    r = site.step(alice.chunk(None, parts=parts), drive=D)
    assert r.status == 400


def test_exactly_one_hundred_files(site, alice):
    parts = [File('file', 'f%d.txt' % i, b'x' * (i + 1)) for i in range(100)]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status == 200


def test_extra_fields_and_files_are_ignored(site, alice):
    parts = [Field('note', 'hello'), File('other', 'o.txt', b'zzz'), File('file', 'real.txt', b'real')]
    r = site.step(alice.chunk(None, parts=parts), drive=D)
    assert r.status == 200


def test_file_part_with_base64_transfer_encoding(site, alice):
    parts = [File('file', 'b64.txt', b'aGVsbG8=', content_type='text/plain\r\nContent-Transfer-Encoding: base64')]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status == 200


def test_body_shorter_than_content_length_header_is_not_sent(site, alice):
    """Content-Length: 0 with multipart content type: empty POST, so CSRF token missing."""
    ctype, _ = multipart([])
    r = site.step(Request('POST', UPLOAD, alice.headers(ctype) + [('Content-Length', '0')], b''), drive=D)
    assert r.status == 403
    r = site.step(Request('POST', UPLOAD, alice.headers(ctype, [('X-CSRFToken', alice.csrf)])
                          + [('Content-Length', '0')], b''), drive=R)
    assert r.status == 400


def test_form_field_over_the_memory_limit(site, alice):
    parts = [Field('note', 'n' * (2621440 + 10)), File('file', 'a.txt', b'x')]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status == 400


def test_too_many_form_fields(site, alice):
    parts = [Field('f%d' % i, 'v') for i in range(1005)] + [File('file', 'a.txt', b'x')]
    r = site.step(alice.chunk(None, parts=parts), drive=D)
    assert r.status == 400


def test_too_many_files_with_malformed_csrf_cookie(site, alice):
    """3.2 parses the body first (400); 4.2+ rejects the cookie first (403)."""
    parts = [File('file', 'f%d.txt' % i, b'x') for i in range(101)]
    r = site.step(alice.chunk(None, parts=parts, cookies={'csrftoken': 'abc'}), drive=R)
    assert r.status == (400 if site.world.upstream else 403)


def test_too_many_files_without_csrf_cookie(site, alice):
    parts = [File('file', 'f%d.txt' % i, b'x') for i in range(101)]
    r = site.step(alice.chunk(None, parts=parts, cookies={'csrftoken': None}), drive=D)
    assert r.status == 403


def test_host_with_bytes_outside_ascii(site, alice):
    """A Host that is not visible ASCII still reaches Django (latin-1 in
    WSGI), where host validation refuses it: 400, not a fallback host."""
    r = site.step(alice.chunk(b'data', host='testserv\xe9r'), drive=R)
    assert r.status == 400


def test_malformed_csrf_cookie_on_an_unknown_url(site, alice):
    """4.2+ Csrf.process_response renews a malformed cookie on any response
    it sees, the resolver's 404 included; 3.2 leaves it."""
    r = site.step(alice.chunk(b'data', path='/api/nothing_here/', cookies={'csrftoken': 'short'}), drive=D)
    assert r.status == 404


def test_malformed_csrf_cookie_with_a_disallowed_host(site, alice):
    """The 400 page's view wears `requires_csrf_token`, which runs the CSRF
    middleware itself."""
    r = site.step(alice.chunk(b'data', host='evil.example', cookies={'csrftoken': 'short'}), drive=R)
    assert r.status == 400


# Two `Cookie` header lines. gunicorn joins repeated headers with "," into one
# HTTP_COOKIE (gunicorn/http/wsgi.py `create`); Django's `parse_cookie` splits
# that on ";" only, so the last cookie of the first line absorbs the first
# cookie of the next line, and a later cookie of the same name wins.

def _cookie_lines(req, *lines):
    headers = [(k, v) for k, v in req.headers if k.lower() != 'cookie']
    return Request(req.method, req.path, headers + [('Cookie', line) for line in lines], req.body)


def test_cookie_lines_session_then_csrf(site, alice):
    req = alice.chunk(b'data')
    r = site.step(_cookie_lines(req, 'sessionid=' + alice.session, 'csrftoken=' + alice.csrf), drive=D)
    assert r.status == 403


def test_cookie_lines_csrf_then_session(site, alice):
    req = alice.chunk(b'data')
    r = site.step(_cookie_lines(req, 'csrftoken=' + alice.csrf, 'sessionid=' + alice.session), drive=R)
    assert r.status == 403


def test_cookie_lines_second_line_read_after_an_absorbed_cookie(site, alice):
    """`x=1` absorbs the second line's first cookie; its second one is read."""
    req = alice.chunk(b'data')
    r = site.step(_cookie_lines(req, 'x=1', 'y=2; sessionid=%s; csrftoken=%s' % (alice.session, alice.csrf)),
                  drive=D)
    assert r.status == 200


def test_cookie_lines_session_absorbs_the_next_line(site, alice):
    """The session key becomes `<key>,junk=1`: an anonymous request (403 from
    the view), while the CSRF cookie of the second line still counts."""
    req = alice.chunk(b'data')
    r = site.step(_cookie_lines(req, 'sessionid=' + alice.session, 'junk=1; csrftoken=' + alice.csrf),
                  drive=R)
    assert r.status == 403


def test_cookie_lines_repeated_cookie_last_one_wins(site, alice):
    req = alice.chunk(b'data')
    both = 'sessionid=%s; csrftoken=%s' % (alice.session, alice.csrf)
    r = site.step(_cookie_lines(req, 'csrftoken=%s; sessionid=bogus; x=1' % ('a' * 32), 'y=2; ' + both),
                  drive=D)
    assert r.status == 200
    # The first csrftoken absorbs the repeated one: `<token>,csrftoken=<token>`
    # is malformed (4.2+ refuse it; 3.2 replaces it and the token mismatches).
    r = site.step(_cookie_lines(req, both, 'csrftoken=' + alice.csrf), drive=R)
    assert r.status == 403


def test_cookie_lines_with_bytes_outside_ascii(site, alice):
    """A cookie value that is not ASCII (UTF-8 bytes, latin-1 in WSGI, then
    `get_str_from_wsgi`) does not hide the cookies around it."""
    req = alice.chunk(b'data')
    lines = ('sessionid=%s; theme=caf\xc3\xa9' % alice.session, 'z=\xff; csrftoken=' + alice.csrf)
    r = site.step(_cookie_lines(req, *lines), drive=D)
    assert r.status == 200


# Media type case. 3.2 compares `cgi.parse_header`'s media type, not
# lower-cased, with 'multipart/form-data' (`_load_post_and_files`), so an
# upper-case one leaves POST and FILES empty; 4.2+ lower-case it
# (`parse_header_parameters`) but `MultiPartParser` still wants the raw
# header to start with 'multipart/'. Parameter names are lower-cased by all.

def _with_content_type(req, ctype):
    headers = [(k, v) for k, v in req.headers if k.lower() != 'content-type']
    return Request(req.method, req.path, headers + [('Content-Type', ctype)], req.body)


def _boundary(req):
    return next(v for k, v in req.headers if k == 'Content-Type').split('boundary=', 1)[1]


def test_media_type_case_multipart_capitalised(site, alice):
    for csrf in ('header', 'field'):
        req = alice.chunk(b'data', csrf=csrf)
        r = site.step(_with_content_type(req, 'Multipart/Form-Data; BOUNDARY=' + _boundary(req)), drive=D)
        assert r.status in (400, 403)


def test_media_type_case_multipart_upper_case(site, alice):
    req = alice.chunk(b'data', csrf='header')
    r = site.step(_with_content_type(req, 'MULTIPART/FORM-DATA; boundary=' + _boundary(req)), drive=R)
    assert r.status == 400


def test_media_type_case_boundary_parameter_name(site, alice):
    req = alice.chunk(b'data')
    r = site.step(_with_content_type(req, 'multipart/form-data; BOUNDARY=' + _boundary(req)), drive=D)
    assert r.status == 200


def test_media_type_case_multipart_subtype_only(site, alice):
    """Starts with 'multipart/', so 4.2+ parse it; 3.2 does not."""
    req = alice.chunk(b'data', csrf='header')
    r = site.step(_with_content_type(req, 'multipart/Form-Data; Boundary=' + _boundary(req)), drive=R)
    assert r.status in (200, 400)


def test_media_type_case_urlencoded(site, alice):
    body = ('csrfmiddlewaretoken=%s&upload_id=abc' % alice.csrf).encode()
    for ctype in ('application/X-WWW-Form-Urlencoded', 'APPLICATION/X-WWW-FORM-URLENCODED; CHARSET=UTF-8'):
        r = site.step(alice.raw('POST', COMPLETE, body, ctype), drive=D)
        assert r.status in (400, 403)
