"""Pure unit tests of the companion app's parts that need no Django: the md5
finisher (against hashlib, and against states the Rust service's md-5 0.11
crate serialised) and the env-file writer (against ports of the systemd and
docker readers, envfile_readers.py). They run once, outside the cells."""
import hashlib
import json
import os
import random
import string
import sys

import pytest

import envfile_readers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'companion'))
from chunked_upload_service import envfile, md5_finish, series  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_state():
    """Overrides conftest's: these tests need no world (database, servers)."""
    yield


def rust_data(n):
    return bytes((i * 31 + 7) % 251 for i in range(n))


# (length, state) as md-5 0.11 serialised it after hashing rust_data(length)
# fed in 37-byte pieces (a scratch program: Md5::new(), update per piece,
# SerializableState::serialize(), hex).
RUST_STATES = [
    (0, '0123456789abcdeffedcba9876543210000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (1, '0123456789abcdeffedcba9876543210000000000000000001070000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (55, '0123456789abcdeffedcba98765432100000000000000000370726456483a2c1e004234261809fbedd01203f5e7d9cbbdaf91d3c5b7a99b8d7f61a39587796b5d4f31736557493b2d1f01433527190af0000000000000000'),
    (56, '0123456789abcdeffedcba98765432100000000000000000380726456483a2c1e004234261809fbedd01203f5e7d9cbbdaf91d3c5b7a99b8d7f61a39587796b5d4f31736557493b2d1f01433527190afce00000000000000'),
    (63, '0123456789abcdeffedcba987654321000000000000000003f0726456483a2c1e004234261809fbedd01203f5e7d9cbbdaf91d3c5b7a99b8d7f61a39587796b5d4f31736557493b2d1f01433527190afceed11304f6e8dac'),
    (64, '635fbdcc0a140a1c71b4513a0707dcc9010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (65, '635fbdcc0a140a1c71b4513a0707dcc9010000000000000001ea0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (119, '635fbdcc0a140a1c71b4513a0707dcc9010000000000000037ea0e2d4c6b8aa9c8e70b2a496887a6c5e40827466584a3c2e10524436281a0bfde0221405f7e9dbcdbfa1e3d5c7b9ab9d8f71b3a5978970000000000000000'),
    (120, '635fbdcc0a140a1c71b4513a0707dcc9010000000000000038ea0e2d4c6b8aa9c8e70b2a496887a6c5e40827466584a3c2e10524436281a0bfde0221405f7e9dbcdbfa1e3d5c7b9ab9d8f71b3a597897b600000000000000'),
    (128, '81e70530fb0efa57d509eca9da67cabb020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (1000, 'c06d278c2ddbb746474b4432bec385320f000000000000002895b4d3f21635547392b1d0ef133251708faecdec102f4e6d8cabcae90d2c4b6a89a8c7e60a2948670000000000000000000000000000000000000000000000'),
    (100000, '7185156622185d1d3510a2da1835d4f91a0600000000000020a9c8e70b2a496887a6c5e40827466584a3c2e10524436281a0bfde0221405f7e00000000000000000000000000000000000000000000000000000000000000'),
]


@pytest.mark.parametrize('length,state_hex', RUST_STATES)
def test_finisher_reads_the_rust_crates_state(length, state_hex):
    state = bytes.fromhex(state_hex)
    data = rust_data(length)
    assert md5_finish.covered_length(state) == length
    assert md5_finish.finish_hex(state) == hashlib.md5(data).hexdigest()
    assert md5_finish.state_of(data) == state


def test_finisher_equals_hashlib_on_many_lengths():
    rng = random.Random(1234)
    lengths = list(range(0, 300)) + [rng.randrange(300, 20000) for _ in range(200)] + [4096 * 16 + 5]
    for n in lengths:
        data = rng.randbytes(n)
        assert md5_finish.finish_hex(md5_finish.state_of(data)) == hashlib.md5(data).hexdigest(), n


@pytest.mark.parametrize('bad', [
    b'', b'\x00' * 87, b'\x00' * 89,
    bytes(24) + bytes([64]) + bytes(63),                  # buffer position must be < 64
    bytes(24) + bytes([3]) + b'abc' + b'x' + bytes(59),   # junk after the buffered bytes
])
def test_finisher_refuses_malformed_states(bad):
    with pytest.raises(md5_finish.BadState):
        md5_finish.finish_hex(bad)


TRICKY = ['', 'plain', 'a b', 'x=y=z', '#not-a-comment', ';semi', 'tab\there', "it's", 'say "hi"',
          '"quoted"', "'single'", ' lead', 'trail ', 'back\\slash', 'new\nline', 'cr\rhere', '$HOME',
          '${X}', '`cmd`', 'caf\u00e9', '\u00a0nbsp', 'nul\x00', '[json]', '{"a": 1}', 'end\\',
          'lone\udc80surrogate']


def random_values(n=3000):
    rng = random.Random(99)
    alphabet = string.ascii_letters + string.digits + ' \t\'"\\#;=$`{}[],\n\r\u00e9\u00a0'
    for _ in range(n):
        yield ''.join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))


def test_every_written_value_reads_back_the_same_in_systemd_and_docker():
    written = refused = 0
    for value in TRICKY + list(random_values()):
        try:
            text = envfile.render([('comment', 'header'), ('var', 'SOME_SETTING', value),
                                   ('var', 'NEXT', 'ok')])
        except envfile.Unwritable as e:
            assert e.name == 'SOME_SETTING'
            refused += 1
            continue
        written += 1
        assert envfile_readers.systemd(text) == {'SOME_SETTING': value, 'NEXT': 'ok'}, repr(value)
        assert envfile_readers.docker(text) == {'SOME_SETTING': value, 'NEXT': 'ok'}, repr(value)
        assert envfile_readers.docker(text, trim_quotes=True) == {'SOME_SETTING': value, 'NEXT': 'ok'}
    assert written > 500 and refused > 500


@pytest.mark.parametrize('value', ['a\nb', 'a\\b', ' a', 'a ', '"a"', "'a", 'a\rb'])
def test_values_no_env_file_carries_for_both_are_refused_by_name(value):
    with pytest.raises(envfile.Unwritable) as e:
        envfile.line('SECRET_KEY', value)
    assert str(e.value).startswith('SECRET_KEY: ')


def test_the_refused_values_would_indeed_read_differently():
    """The refusals are real: written bare, systemd and docker (the docker/cli
    that keeps quotes, or the newest, which strips a matching pair) disagree."""
    for value in ['a\\b', ' a', 'a ', '"a"', "'a'", 'x\\', '"a', "'a b '"]:
        text = 'K=%s\n' % value
        as_systemd = envfile_readers.systemd(text).get('K')
        assert (as_systemd != envfile_readers.docker(text).get('K')
                or as_systemd != envfile_readers.docker(text, trim_quotes=True).get('K')), value


def service_list(raw):
    """The service's list syntax (src/config.rs `list`)."""
    s = raw.strip()
    if not s:
        return []
    if s.startswith('['):
        return json.loads(s)
    return [x.strip() for x in s.split(',') if x.strip()]


@pytest.mark.parametrize('items', [[], ['*'], ['a.example', '.b.example', '[::1]'], ['x,y', 'z'],
                                   ['key with space', 'k2'], ['!@#$%^&*(-_=+)']])
def test_lists_read_back_as_the_same_items(items):
    assert service_list(envfile.as_list('ALLOWED_HOSTS', items)) == items


def test_comments_stay_one_line_in_both_readers():
    text = envfile.render([('comment', 'nginx:\nlocation ~ ^/api/x/?$ { proxy_pass http://u; } \\'),
                           ('var', 'A', '1')])
    assert envfile_readers.systemd(text) == envfile_readers.docker(text) == {'A': '1'}


@pytest.mark.parametrize('version,want', [
    ((3, 2, 25), ('3.2', True)), ((6, 1, 3), ('6.1', True)), ((4, 1, 0), ('4.2', False)),
    ((4, 0, 1), ('4.2', False)), ((5, 0, 0), ('5.2', False)), ((5, 1, 4), ('5.2', False)),
    ((6, 2, 0), ('6.1', False)), ((3, 1, 0), ('3.2', False)), ((7, 0, 0), ('6.1', False)),
])
def test_django_version_is_the_installed_series_or_the_nearest(version, want):
    assert series.nearest(version) == want
