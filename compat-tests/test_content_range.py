"""The Content-Range header: every way it can be wrong."""
import pytest

from compatlib import md5hex

D, R = 'django', 'rust'
DATA = b'0123456789A'   # 11 bytes


@pytest.mark.parametrize('value', [
    'bytes 0-10/11',            # correct
    'bytes=0-10/11',            # RFC 7233 style for Range, not matched: whole file
    'bytes 0-10',               # missing total: not matched
    'bytes 0-10/*',             # unknown total: not matched
    'Bytes 0-10/11',            # wrong case: not matched
    'bytes  0-10/11',           # two spaces: not matched
    'bytes 000-010/011',        # leading zeros
    'bytes 0-10/5',             # total smaller than end: accepted
    'bytes -0-10/11',
    'bytes 0x0-10/11',
    'bytes 0-10/11 junk',
    '',
], ids=['ok', 'equals', 'no-total', 'star-total', 'case', 'two-spaces', 'leading-zeros',
        'small-total', 'negative', 'hex', 'junk', 'empty'])
def test_first_chunk_with_content_range_variant(site, alice, value):
    r = site.step(alice.chunk(DATA, content_range=value), drive=R)
    assert r.status in (200, 400)


@pytest.mark.parametrize('value', [
    'bytes 11-21/22', 'bytes=11-21/22', 'bytes 11-21', 'bytes 11-21/*', 'BYTES 11-21/22',
    'bytes\t11-21/22', 'bytes 011-021/022', 'bytes 11-21/3', 'bytes +11-21/22', 'bytes 11 - 21/22',
    'bytes 11-21/22/33', 'bytes 11-21/22 ', ' bytes 11-21/22', 'bytes 1_1-21/22',
], ids=['ok', 'equals', 'no-total', 'star-total', 'upper', 'tab', 'leading-zeros', 'small-total',
        'plus', 'spaces', 'extra-slash', 'trailing-space', 'leading-space', 'underscore'])
def test_second_chunk_with_content_range_variant(site, alice, value):
    """Only a header the view's regex accepts puts the chunk at offset 11;
    anything else means start=0, hence "Offsets do not match"."""
    r = site.step(alice.chunk(DATA, content_range='bytes 0-10/22'), drive=D)
    uid = r.json['upload_id']
    r = site.step(alice.chunk(DATA, uid, content_range=value), drive=R)
    assert r.status in (200, 400)


def test_reversed_range(site, alice):
    r = site.step(alice.chunk(DATA, content_range='bytes 5-1/10'), drive=D)
    assert r.status == 400
    r = site.step(alice.chunk(DATA, content_range='bytes 0-0/10'), drive=R)
    assert r.status == 400


def test_reversed_range_with_empty_chunk(site, alice):
    """end = start - 1 means a zero-byte chunk: accepted."""
    r = site.step(alice.chunk(b'', content_range='bytes 0--1/0'), drive=D)
    r = site.step(alice.chunk(b'', content_range='bytes 1-0/0'), drive=R)
    assert r.status == 400


def test_huge_numbers_in_content_range(site, alice):
    big = '9' * 30
    for value in ('bytes 0-%s/%s' % (big, big), 'bytes %s-%s/%s' % (big, big, big),
                  'bytes 0-10/%s' % big, 'bytes 0-18446744073709551615/11',
                  'bytes 18446744073709551616-18446744073709551626/11',
                  'bytes 0-9223372036854775807/9223372036854775808'):
        r = site.step(alice.chunk(DATA, content_range=value), drive=D)
        assert r.status in (200, 400)


def test_huge_total_against_the_size_limit(limited_site):
    alice = limited_site.login('alice')
    r = limited_site.step(alice.chunk(DATA, content_range='bytes 0-10/%s' % ('9' * 40)), drive=R)
    assert r.status == 400


def test_resume_with_huge_start(site, alice):
    r = site.step(alice.chunk(DATA, content_range='bytes 0-10/22'), drive=R)
    uid = r.json['upload_id']
    r = site.step(alice.chunk(DATA, uid, content_range='bytes 99999999999999999999-100000000000000000009/22'),
                  drive=D)
    assert r.status == 400


def test_unicode_digits_in_content_range(site, alice):
    # Latin-1 superscript digits are not \d; non-ASCII header bytes arrive latin-1 decoded
    r = site.step(alice.chunk(DATA, content_range='bytes 0-1\u00b9/11'), drive=R)
    assert r.status in (200, 400)


def test_two_content_range_headers(site, alice):
    req = alice.chunk(DATA, content_range='bytes 0-10/11')
    req.headers.append(('Content-Range', 'bytes 5-15/16'))
    r = site.step(req, drive=D)
    assert r.status in (200, 400)


def test_content_range_on_complete_is_ignored(site, alice):
    r = site.step(alice.chunk(DATA), drive=D)
    uid = r.json['upload_id']
    r = site.step(alice.complete(uid, md5hex(DATA), extra_headers=[('Content-Range', 'bytes 9-9/1')]), drive=R)
    assert r.status == 200
