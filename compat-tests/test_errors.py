"""Every error answer of the package README, plus completion edge cases."""
from compatlib import md5hex, File, Field

D, R = 'django', 'rust'


def start(site, client, data=b'0123456789', total=20, drive=D):
    r = site.step(client.chunk(data, content_range='bytes 0-%d/%d' % (len(data) - 1, total)), drive=drive)
    assert r.status == 200, r.summary()
    return r.json['upload_id']


def test_anonymous_chunk_is_forbidden(site):
    anon = site.anonymous()
    r = site.step(anon.chunk(b'data'), drive=R)
    assert r.status == 403


def test_anonymous_complete_is_forbidden(site, alice):
    uid = start(site, alice)
    anon = site.anonymous()
    r = site.step(anon.complete(uid, md5hex(b'0123456789')), drive=D)
    assert r.status == 403


def test_chunk_to_expired_upload_is_gone(site, alice):
    uid = start(site, alice)
    site.world.db.q("UPDATE chunked_upload_chunkedupload SET created_on = now() - interval '2 days' "
                    "WHERE upload_id = %s", (uid,))
    r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
    assert r.status == 410


def test_chunk_just_after_expiry_boundary_is_gone(site, alice):
    uid = start(site, alice)
    site.world.db.q("UPDATE chunked_upload_chunkedupload SET created_on = now() - interval '1 day' "
                    "WHERE upload_id = %s", (uid,))
    r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
    assert r.status == 410


def test_completing_an_expired_upload_still_succeeds(site, alice):
    data = b'0123456789'
    uid = start(site, alice, data, total=10)
    site.world.db.q("UPDATE chunked_upload_chunkedupload SET created_on = now() - interval '3 days' "
                    "WHERE upload_id = %s", (uid,))
    r = site.step(alice.complete(uid, md5hex(data)), drive=R)
    assert r.status == 200


def test_chunk_with_unknown_upload_id_is_not_found(site, alice):
    r = site.step(alice.chunk(b'abc', '0' * 32), drive=R)
    assert r.status == 404


def test_chunk_with_non_hex_overlong_upload_id_is_not_found(site, alice):
    r = site.step(alice.chunk(b'abc', 'x' * 40 + "'; DROP TABLE x; --"), drive=D)
    assert r.status == 404


def test_chunk_to_another_users_upload_is_not_found(site, alice, bob):
    uid = start(site, alice, drive=R)
    r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
    assert r.status == 404


def test_complete_of_another_users_upload_is_not_found(site, alice, bob):
    uid = start(site, alice, total=10)
    r = site.step(bob.complete(uid, md5hex(b'0123456789')), drive=R)
    assert r.status == 404


def test_complete_of_unknown_upload_is_not_found(site, alice):
    r = site.step(alice.complete('f' * 32, md5hex(b'')), drive=D)
    assert r.status == 404


def test_chunk_request_without_file_part(site, alice):
    r = site.step(alice.chunk(None, parts=[Field('note', 'no file here')]), drive=R)
    assert r.status == 400


def test_chunk_with_file_under_another_field_name(site, alice):
    r = site.step(alice.chunk(None, parts=[File('upload', 'a.txt', b'abc')]), drive=D)
    assert r.status == 400


def test_first_chunk_with_total_over_size_limit(limited_site):
    alice = limited_site.login('alice')
    r = limited_site.step(alice.chunk(b'x' * 10, content_range='bytes 0-9/101'), drive=R)
    assert r.status == 400


def test_resumed_chunk_with_total_over_size_limit(limited_site):
    alice = limited_site.login('alice')
    r = limited_site.step(alice.chunk(b'x' * 10, content_range='bytes 0-9/100'), drive=D)
    assert r.status == 200
    uid = r.json['upload_id']
    r = limited_site.step(alice.chunk(b'y' * 10, uid, content_range='bytes 10-19/5000'), drive=R)
    assert r.status == 400
    r = limited_site.step(alice.chunk(b'y' * 90, uid, content_range='bytes 10-99/100'), drive=R)
    assert r.status == 200
    limited_site.step(alice.complete(uid, md5hex(b'x' * 10 + b'y' * 90)), drive=D)


def test_upload_without_content_range_over_size_limit(limited_site):
    alice = limited_site.login('alice')
    r = limited_site.step(alice.chunk(b'z' * 101), drive=D)
    assert r.status == 400


def test_chunk_with_wrong_offset(site, alice):
    uid = start(site, alice, drive=R)
    r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 5-14/20'), drive=D)
    assert r.status == 400
    r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
    assert r.status == 200


def test_first_chunk_not_at_offset_zero_leaves_an_orphan_file(site, alice):
    r = site.step(alice.chunk(b'abcdefghij', content_range='bytes 10-19/20'), drive=D)
    assert r.status == 400


def test_chunk_size_does_not_match_content_range(site, alice):
    r = site.step(alice.chunk(b'abcdefghij', content_range='bytes 0-10/20'), drive=R)
    assert r.status == 400
    uid = start(site, alice)
    r = site.step(alice.chunk(b'abcdefghi', uid, content_range='bytes 10-19/20'), drive=D)
    assert r.status == 400


def test_complete_with_wrong_md5(site, alice):
    data = b'0123456789'
    uid = start(site, alice, data, total=10)
    r = site.step(alice.complete(uid, md5hex(b'something else')), drive=R)
    assert r.status == 400
    r = site.step(alice.complete(uid, md5hex(data).upper()), drive=D)
    assert r.status == 400
    r = site.step(alice.complete(uid, md5hex(data)), drive=R)
    assert r.status == 200


def test_complete_without_upload_id_or_md5(site, alice):
    uid = start(site, alice)
    for req in (alice.complete(None, md5hex(b'')), alice.complete(uid, None),
                alice.complete(None, None), alice.complete(uid, ''), alice.complete('', 'abc')):
        r = site.step(req, drive=R)
        assert r.status == 400


def test_completing_an_already_complete_upload(site, alice):
    data = b'0123456789'
    uid = start(site, alice, data, total=10, drive=R)
    site.step(alice.complete(uid, md5hex(data)), drive=D)
    # upstream 2.0.0 answers 200 {} again (and moves completed_on); patched answers 400
    r = site.step(alice.complete(uid, md5hex(data)), drive=R)
    assert r.status == (200 if site.world.upstream else 400)
    r = site.step(alice.complete(uid, md5hex(b'wrong')), drive=D)
    assert r.status == 400


def test_chunk_to_a_completed_upload_is_rejected(site, alice):
    data = b'0123456789'
    uid = start(site, alice, data, total=10)
    site.step(alice.complete(uid, md5hex(data)), drive=R)
    r = site.step(alice.chunk(b'more', uid, content_range='bytes 10-13/14'), drive=D)
    assert r.status == 400
    r = site.step(alice.chunk(b'more', uid, content_range='bytes 10-13/14'), drive=R)
    assert r.status == 400
