"""What the browser sends as the file name, and what ends up in `filename`."""
import pytest

from compatlib import File, Field, md5hex

D, R = 'django', 'rust'


def upload(site, client, filename, drive, **kw):
    return site.step(client.chunk(b'payload', filename=filename, **kw), drive=drive)


def test_unicode_filename(site, alice):
    r = upload(site, alice, 'naïve résumé – 日本語 😀.txt', R)
    assert r.status == 200
    site.step(alice.complete(r.json['upload_id'], md5hex(b'payload')), drive=D)


@pytest.mark.parametrize('name', ['../../etc/passwd', '/abs/path/file.bin', 'C:\\x\\y.txt',
                                  'dir\\..\\evil.exe', 'a/b\\c/d.txt'])
def test_path_like_filename(site, alice, name):
    r = upload(site, alice, name, D)
    assert r.status == 200


def test_html_entity_filename(site, alice):
    r = upload(site, alice, 'a &amp; b &lt;c&gt; &#233;t&eacute;.txt', R)
    assert r.status == 200


def test_html_entity_that_decodes_to_a_slash(site, alice):
    r = upload(site, alice, 'secret&#47;..&#x2f;x&sol;y.txt', D)
    assert r.status == 200


def test_control_characters_in_filename(site, alice):
    """3.2 keeps them; 4.2+ drops non-printable characters."""
    r = upload(site, alice, 'a\x01b\tc\x7fd\x1b[31m.txt', R)
    assert r.status == 200


def test_filename_of_only_control_characters(site, alice):
    r = upload(site, alice, '\x01\x02', D)
    assert r.status in (200, 400)


def test_overlong_filename_is_cut_keeping_the_extension(site, alice):
    r = upload(site, alice, 'a' * 296 + '.txt', R)
    assert r.status == 200


def test_overlong_unicode_filename_without_extension(site, alice):
    r = upload(site, alice, 'é' * 300, D)
    assert r.status == 200


def test_empty_filename_is_a_field_not_a_file(site, alice):
    r = upload(site, alice, '', R)
    assert r.status == 400


@pytest.mark.parametrize('name', ['..', '.', 'x/..', 'x\\.'])
def test_dot_filenames_are_dropped(site, alice, name):
    r = upload(site, alice, name, D)
    assert r.status == 400


def test_whitespace_filename(site, alice):
    r = upload(site, alice, '   ', R)
    assert r.status in (200, 400)


def test_quoted_and_escaped_filename(site, alice):
    parts = [File('file', None, b'payload', disposition='form-data; name="file"; filename="say \\"hi\\" \\\\ ok.txt"')]
    r = site.step(alice.chunk(None, parts=parts), drive=D)
    assert r.status == 200


def test_rfc2231_filename_star(site, alice):
    parts = [File('file', None, b'payload',
                  disposition="form-data; name=\"file\"; filename=\"plain.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt")]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status == 200


def test_unquoted_filename_parameter(site, alice):
    parts = [File('file', None, b'payload', disposition='form-data; name=file; filename=bare.txt')]
    r = site.step(alice.chunk(None, parts=parts), drive=D)
    assert r.status == 200


def test_non_utf8_filename_bytes(site, alice):
    """3.2: U+FFFD in the name; 4.2+: the header is skipped, so no file."""
    parts = [File('file', None, b'payload', disposition=b'form-data; name="file"; filename="caf\xe9.txt"')]
    r = site.step(alice.chunk(None, parts=parts), drive=R)
    assert r.status in (200, 400)


def test_filename_is_kept_from_first_chunk_only(site, alice):
    r = site.step(alice.chunk(b'12345', filename='first.txt', content_range='bytes 0-4/10'), drive=D)
    uid = r.json['upload_id']
    site.step(alice.chunk(b'67890', uid, filename='second.txt', content_range='bytes 5-9/10'), drive=R)
    site.step(alice.complete(uid, md5hex(b'1234567890')), drive=D)


def test_nul_byte_in_filename(site, alice):
    """4.2+ drops the NUL (not printable) and both store the chunk. 3.2 keeps
    it, PostgreSQL refuses the row, and both answer 500. There Django leaves
    the new `.part` file behind with the chunk in it and no row; the service
    removes it (README: an orphan holding data is not kept)."""
    req = alice.chunk(b'payload', filename='a\x00b.txt')
    if not site.world.upstream:
        r = site.step(req, drive=D)
        assert r.status == 200
        return
    w = site.world
    before = w.snapshot()
    rd = site.send(req, to='django')
    w.restore(before)
    rc = site.send(req, to='rust')
    after = w.snapshot()
    assert (rd.status, rc.status) == (500, 500)
    assert rd.body == rc.body
    assert after.rows == before.rows
    assert [p for p in after.media if p.endswith('.part')] == [p for p in before.media if p.endswith('.part')]
