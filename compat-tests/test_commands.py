"""`chunked-upload delete-expired-uploads` against Django's management command
of that name (django-chunked-upload-patched 2.1.0 has it; 2.0.0 does not):
same state before, same output lines, same rows and files after."""
import subprocess

import pytest

import compatlib
from compatlib import md5hex

D = 'django'


def _ours(world):
    r = subprocess.run([compatlib.candidate_binary(), 'delete-expired-uploads'], env=world.server_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def test_delete_expired_uploads_matches_djangos_command(site, alice):
    w = site.world
    if compatlib.PROFILES[w.profile]['compat'] != 'patched':
        pytest.skip('django-chunked-upload 2.0.0 has no delete_expired_uploads command')
    uids = []
    for data in (b'one', b'two', b'three'):
        uids.append(site.step(alice.chunk(data), drive=D).json['upload_id'])
    site.step(alice.complete(uids[1], md5hex(b'two')), drive=D)
    # Two of them expired (one complete, one not); the third is fresh.
    w.db.q("UPDATE chunked_upload_chunkedupload SET created_on = now() - interval '3 days' "
           "WHERE upload_id IN (%s, %s)", (uids[0], uids[1]))
    before = w.snapshot()
    django_out = compatlib.run_manage(w.profile, w.server_env(), 'delete_expired_uploads')
    after_django = w.snapshot()
    w.restore(before)
    ours = _ours(w)
    after_ours = w.snapshot()
    assert ours == django_out == '1 complete uploads were deleted.\n1 incomplete uploads were deleted.\n'
    assert set(after_ours.rows) == set(after_django.rows)
    assert set(after_ours.media) == set(after_django.media)
    assert len(after_ours.rows) == len(before.rows) - 2
