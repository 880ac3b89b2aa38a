"""Whole uploads: one chunk, many chunks, with and without Content-Range,
with every mix of servers on one upload."""
import itertools

import pytest

from compatlib import md5hex

D, R = 'django', 'rust'


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def test_one_chunk_upload_without_content_range_on_django_completed_on_rust(site, alice):
    data = b'hello world\n'
    r = site.step(alice.chunk(data, filename='hello.txt'), drive=D)
    assert r.status == 200
    uid = r.json['upload_id']
    r = site.step(alice.complete(uid, md5hex(data)), drive=R)
    assert r.status == 200


def test_one_chunk_upload_with_content_range_on_rust_completed_on_django(site, alice):
    data = b'0123456789A'
    r = site.step(alice.chunk(data, content_range='bytes 0-10/11'), drive=R)
    assert r.status == 200
    uid = r.json['upload_id']
    r = site.step(alice.complete(uid, md5hex(data)), drive=D)
    assert r.status == 200


def test_resume_on_rust_after_django_first_chunk(site, alice):
    data = bytes(range(256)) * 40
    a, b = data[:4000], data[4000:]
    r = site.step(alice.chunk(a, content_range=cr(0, a, len(data))), drive=D)
    uid = r.json['upload_id']
    r = site.step(alice.chunk(b, uid, content_range=cr(4000, b, len(data))), drive=R)
    assert r.json['offset'] == len(data)
    site.step(alice.complete(uid, md5hex(data)), drive=R)


def test_resume_on_django_after_rust_first_chunk(site, alice):
    data = b'abcdefghij' * 700
    a, b = data[:5000], data[5000:]
    r = site.step(alice.chunk(a, content_range=cr(0, a, len(data))), drive=R)
    uid = r.json['upload_id']
    r = site.step(alice.chunk(b, uid, content_range=cr(5000, b, len(data))), drive=D)
    site.step(alice.complete(uid, md5hex(data)), drive=D)


def test_six_chunk_upload_alternating_servers_every_chunk(site, alice):
    data = bytes((i * 7) % 251 for i in range(6 * 1000 + 17))
    size = 1000
    uid = None
    for n, start in enumerate(range(0, len(data), size)):
        chunk = data[start:start + size]
        r = site.step(alice.chunk(chunk, uid, content_range=cr(start, chunk, len(data))),
                      drive=D if n % 2 == 0 else R)
        assert r.status == 200
        uid = r.json['upload_id']
    site.step(alice.complete(uid, md5hex(data)), drive=D)


@pytest.mark.parametrize('drivers', list(itertools.product((D, R), repeat=3)),
                         ids=lambda t: '-'.join(t))
def test_three_step_upload_with_every_server_mix(site, alice, drivers):
    """first chunk / second chunk / complete, each on Django or Rust."""
    data = b'The quick brown fox jumps over the lazy dog. ' * 30
    a, b = data[:700], data[700:]
    r = site.step(alice.chunk(a, content_range=cr(0, a, len(data)), filename='fox.txt'), drive=drivers[0])
    uid = r.json['upload_id']
    site.step(alice.chunk(b, uid, content_range=cr(700, b, len(data)), filename='fox.txt'), drive=drivers[1])
    r = site.step(alice.complete(uid, md5hex(data)), drive=drivers[2])
    assert r.body == b'{}'


def test_second_chunk_without_content_range_is_an_offset_mismatch(site, alice):
    r = site.step(alice.chunk(b'first part'), drive=D)
    uid = r.json['upload_id']
    r = site.step(alice.chunk(b'second part', uid), drive=R)
    assert r.status == 400


def test_content_range_chunks_sent_as_jquery_file_upload_does(site, alice):
    """Content-Range on every chunk, total known up front, last chunk short."""
    data = b'x' * 2500 + b'yz'
    uid = None
    for n, start in enumerate(range(0, len(data), 1000)):
        chunk = data[start:start + 1000]
        r = site.step(alice.chunk(chunk, uid, content_range=cr(start, chunk, len(data)),
                                  filename='big.bin'), drive=(R, D, R)[n])
        uid = r.json['upload_id']
    site.step(alice.complete(uid, md5hex(data)), drive=R)


def test_empty_file_upload(site, alice):
    r = site.step(alice.chunk(b'', filename='empty.txt'), drive=D)
    assert r.status == 200
    uid = r.json['upload_id']
    site.step(alice.complete(uid, md5hex(b'')), drive=R)


def test_chunk_bigger_than_the_in_memory_upload_limit(site, alice):
    """3 MiB: Django spools it to a temporary file; the offset is still exact."""
    data = bytes(range(256)) * (3 * 4096)
    r = site.step(alice.chunk(data, content_range='bytes 0-%d/%d' % (len(data) - 1, len(data) + 5)), drive=R)
    uid = r.json['upload_id']
    site.step(alice.chunk(b'12345', uid, content_range='bytes %d-%d/%d' % (len(data), len(data) + 4, len(data) + 5)),
              drive=D)
    site.step(alice.complete(uid, md5hex(data + b'12345')), drive=R)


def test_binary_chunk_that_looks_like_multipart_framing(site, alice):
    data = (b'\r\n--' + b'----CompatBoundary7MA4YWxkTrZ' + b'x\r\n\r\n\x00\xff--\r\n\r\n--\r') * 20
    r = site.step(alice.chunk(data, content_range=cr(0, data, len(data))), drive=D)
    uid = r.json['upload_id']
    site.step(alice.complete(uid, md5hex(data)), drive=R)


def test_chunk_containing_the_boundary_followed_by_garbage(site, alice):
    """The file content contains the real delimiter (not followed by CRLF or --):
    Django's parser still cuts the part there."""
    data = b'head' + b'\r\n--' + b'----CompatBoundary7MA4YWxkTrZu0gW' + b'garbage\r\n' + b'tail'
    r = site.step(alice.chunk(data), drive=R)
    assert r.status == 200


def test_two_users_upload_at_the_same_time_on_different_servers(site, alice, bob):
    da, db = b'alice' * 100, b'bob' * 100
    ra = site.step(alice.chunk(da[:250], content_range=cr(0, da[:250], len(da))), drive=D)
    rb = site.step(bob.chunk(db[:150], content_range=cr(0, db[:150], len(db))), drive=R)
    ua, ub = ra.json['upload_id'], rb.json['upload_id']
    site.step(alice.chunk(da[250:], ua, content_range=cr(250, da[250:], len(da))), drive=R)
    site.step(bob.chunk(db[150:], ub, content_range=cr(150, db[150:], len(db))), drive=D)
    site.step(bob.complete(ub, md5hex(db)), drive=D)
    site.step(alice.complete(ua, md5hex(da)), drive=R)


def test_upload_id_query_string_and_no_trailing_slash(site, alice):
    data = b'no slash'
    r = site.step(alice.chunk(data, path='/api/chunked_upload?x=1'), drive=R)
    assert r.status == 200
    uid = r.json['upload_id']
    site.step(alice.complete(uid, md5hex(data), path='/api/chunked_upload_complete'), drive=D)
