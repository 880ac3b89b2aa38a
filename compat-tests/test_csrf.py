"""CSRF: how the token reaches the server, and what happens when it does not."""
from compatlib import csrf_mask, csrf_unmask, md5hex, Request, UPLOAD, COMPLETE

D, R = 'django', 'rust'


def test_chunk_without_csrf_cookie_is_rejected(site, alice):
    r = site.step(alice.chunk(b'data', cookies={'csrftoken': None}), drive=R)
    assert r.status == 403


def test_chunk_with_csrf_cookie_but_no_token(site, alice):
    r = site.step(alice.chunk(b'data', csrf=None), drive=D)
    assert r.status == 403


def test_chunk_with_wrong_csrf_token_in_field(site, alice):
    wrong = csrf_mask('A' * 32)
    r = site.step(alice.chunk(b'data', csrf=('field', wrong)), drive=R)
    assert r.status == 403
    r = site.step(alice.chunk(b'data', csrf=('field', 'B' * 32)), drive=D)
    assert r.status == 403


def test_chunk_with_malformed_csrf_token_in_field(site, alice):
    for token in ('short', 'x' * 33, '!' * 32, 'é' * 32, ''):
        r = site.step(alice.chunk(b'data', csrf=('field', token)), drive=R)
        assert r.status == 403


def test_chunk_with_token_in_x_csrftoken_header_masked_64(site, alice):
    token = csrf_mask(csrf_unmask(alice.csrf))
    assert len(token) == 64
    r = site.step(alice.chunk(b'data', csrf=('header', token)), drive=R)
    assert r.status == 200


def test_chunk_with_token_in_x_csrftoken_header_unmasked_32(site, alice):
    token = csrf_unmask(alice.csrf)
    assert len(token) == 32
    r = site.step(alice.chunk(b'data', csrf=('header', token)), drive=D)
    assert r.status == 200


def test_chunk_with_wrong_token_in_header(site, alice):
    r = site.step(alice.chunk(b'data', csrf=('header', 'z' * 64)), drive=D)
    assert r.status == 403
    r = site.step(alice.chunk(b'data', csrf=('header', '')), drive=R)
    assert r.status == 403


def test_field_token_wins_over_header_token(site, alice):
    good = alice.csrf
    req = alice.chunk(b'data', csrf=('field', 'Q' * 32), extra_headers=[('X-CSRFToken', good)])
    r = site.step(req, drive=R)
    assert r.status == 403
    req = alice.chunk(b'data', csrf=('field', good), extra_headers=[('X-CSRFToken', 'Q' * 32)])
    r = site.step(req, drive=D)
    assert r.status == 200


def test_chunk_with_freshly_masked_token_in_field(site, alice):
    token = csrf_mask(csrf_unmask(alice.csrf))
    r = site.step(alice.chunk(b'data', csrf=('field', token)), drive=R)
    assert r.status == 200


def test_chunk_with_malformed_csrf_cookie(site, alice):
    """4.2+: 403 and a brand-new random csrftoken cookie; 3.2: parses, 403, no cookie."""
    for bad in ('abc', 'x' * 31 + '!', 'y' * 65):
        r = site.step(alice.chunk(b'data', cookies={'csrftoken': bad}, csrf=('field', alice.csrf)), drive=R)
        assert r.status == 403


def test_chunk_with_32_char_cookie_and_matching_token(site, alice):
    """A 32-character secret in the cookie (as 4.2+ sets it) also works on 3.2."""
    secret = csrf_unmask(alice.csrf)
    r = site.step(alice.chunk(b'data', cookies={'csrftoken': secret}, csrf=('field', csrf_mask(secret))),
                  drive=D)
    assert r.status == 200


def test_chunk_with_64_char_masked_cookie(site, alice):
    secret = csrf_unmask(alice.csrf)
    cookie = csrf_mask(secret)
    r = site.step(alice.chunk(b'data', cookies={'csrftoken': cookie}, csrf=('header', secret)), drive=R)
    assert r.status == 200


def test_chunk_from_a_foreign_origin(site, alice):
    """3.2 has no Origin check (200); 4.2+ answers 403."""
    r = site.step(alice.chunk(b'data', extra_headers=[('Origin', 'http://evil.example')]), drive=R)
    assert r.status == (200 if site.world.upstream else 403)


def test_chunk_with_origin_null(site, alice):
    r = site.step(alice.chunk(b'data', extra_headers=[('Origin', 'null')]), drive=D)
    assert r.status == (200 if site.world.upstream else 403)


def test_chunk_from_the_same_origin(site, alice):
    r = site.step(alice.chunk(b'data', extra_headers=[('Origin', 'http://testserver')]), drive=R)
    assert r.status == 200
    uid = r.json['upload_id']
    r = site.step(alice.complete(uid, md5hex(b'data'), extra_headers=[('Origin', 'http://testserver')]),
                  drive=D)
    assert r.status == 200


def test_chunk_from_same_host_but_https_or_other_port_origin(site, alice):
    for origin in ('https://testserver', 'http://testserver:8080', 'http://TESTSERVER'):
        r = site.step(alice.chunk(b'data', extra_headers=[('Origin', origin)]), drive=R)
        assert r.status in (200, 403)


def test_chunk_from_a_trusted_origin(site, alice):
    r = site.step(alice.chunk(b'data', extra_headers=[('Origin', 'http://trusted.example')]), drive=D)
    assert r.status == 200


def test_chunk_with_foreign_referer_over_plain_http(site, alice):
    r = site.step(alice.chunk(b'data', extra_headers=[('Referer', 'http://evil.example/page')]), drive=R)
    assert r.status == 200


def test_put_without_token_is_forbidden_by_csrf(site, alice):
    r = site.step(alice.raw('PUT', UPLOAD, b'x', 'text/plain'), drive=R)
    assert r.status == 403
    r = site.step(alice.raw('DELETE', COMPLETE), drive=D)
    assert r.status == 403


def test_put_and_patch_with_token_are_method_not_allowed(site, alice):
    hdr = [('X-CSRFToken', alice.csrf)]
    for method in ('PUT', 'PATCH', 'DELETE'):
        r = site.step(alice.raw(method, UPLOAD, b'x', 'text/plain', extra_headers=hdr), drive=R)
        assert r.status == 405


def test_complete_without_csrf_token(site, alice):
    r = site.step(alice.chunk(b'data'), drive=D)
    uid = r.json['upload_id']
    r = site.step(alice.complete(uid, md5hex(b'data'), csrf=None), drive=R)
    assert r.status == 403
    r = site.step(alice.complete(uid, md5hex(b'data'), cookies={'csrftoken': None}), drive=R)
    assert r.status == 403
