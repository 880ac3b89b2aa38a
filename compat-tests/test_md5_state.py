"""Completion answers from the running md5 the service keeps beside each upload,
and reads the file only when real Django wrote a chunk since (the state is then
stale). These steps go to one server at a time (`site.send`), because the
point is what the candidate does with state Django left behind; the answers
are checked against the md5 of what was uploaded."""
import pytest

from compatlib import md5hex

MARK = 'no current md5 state'


@pytest.fixture
def rust_only(site):
    if site.world.candidate_kind != 'rust':
        pytest.skip('about the Rust candidate only')
    return site


def candidate_log(site):
    return site.procs[1].log_tail(200000)


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def test_completion_after_chunks_all_on_rust_does_not_read_the_file(rust_only, alice):
    site = rust_only
    data = bytes((i * 13) % 256 for i in range(300000))
    parts = [data[:100000], data[100000:250000], data[250000:]]
    uid, start = None, 0
    for p in parts:
        r = site.send(alice.chunk(p, uid, content_range=cr(start, p, len(data))), to='rust')
        assert r.status == 200, r.summary()
        uid, start = r.json['upload_id'], start + len(p)
    r = site.send(alice.complete(uid, md5hex(data)), to='rust')
    assert (r.status, r.body) == (200, b'{}'), r.summary()
    assert 'upload %s: %s' % (uid, MARK) not in candidate_log(site)


def test_completion_after_a_django_chunk_reads_the_file_once_and_is_right(rust_only, alice):
    site = rust_only
    data = bytes((i * 29) % 256 for i in range(200000))
    a, b = data[:120000], data[120000:]
    r = site.send(alice.chunk(a, content_range=cr(0, a, len(data))), to='rust')
    uid = r.json['upload_id']
    r = site.send(alice.chunk(b, uid, content_range=cr(len(a), b, len(data))), to='django')
    assert r.json['offset'] == len(data), r.summary()
    r = site.send(alice.complete(uid, '0' * 32), to='rust')
    assert r.body == b'{"detail": "md5 checksum does not match"}', r.summary()
    r = site.send(alice.complete(uid, md5hex(data)), to='rust')
    assert (r.status, r.body) == (200, b'{}'), r.summary()
    assert 'upload %s: %s' % (uid, MARK) in candidate_log(site)
