"""Write `NAME=value` lines that systemd's `EnvironmentFile=` and
`docker run --env-file` both read as the same string.

The two readers disagree on everything but plain text:

* docker (docker/cli `parseKeyValueFile`, opts/parse.go, now
  pkg/kvfile/kvfile.go): one line per variable, the line's leading
  whitespace dropped, lines starting with `#` ignored, and the value is
  everything after the first `=`, taken literally (backslashes included,
  trailing whitespace kept; quotes too, except that the newest docker/cli
  removes one pair of matching outer quotes); the file must be UTF-8.
* systemd (`parse_env_file_internal` in src/basic/env-file.c): lines starting
  with `#` or `;` ignored; whitespace after `=` skipped; a value that starts
  with `'` or `"` is quoted (the quotes are removed); outside single quotes a
  backslash escapes the next character (and joins lines); trailing
  whitespace of an unquoted value is removed; `\\r` ends a line; invalid
  UTF-8 is refused.

So a value is written bare, and only when both read that bare text as
itself: no backslash, no CR/LF/NUL, no leading or trailing whitespace, no
leading quote, valid UTF-8. Anything else cannot be written so that both
agree, and is refused by name.
"""

WHITESPACE = ' \t\n\r'


class Unwritable(ValueError):
    """A setting whose value no env-file line reads the same in both formats."""

    def __init__(self, name, why):
        super().__init__('%s: %s' % (name, why))
        self.name = name
        self.why = why


def check_value(name, value):
    """Raise Unwritable unless `value` reads the same in both formats."""
    if not isinstance(value, str):
        raise TypeError('%s: %r is not a string' % (name, value))
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        raise Unwritable(name, 'is not valid UTF-8 text (it holds a lone surrogate)')
    for ch, what in (('\n', 'a newline'), ('\r', 'a carriage return'), ('\x00', 'a NUL byte'),
                     ('\\', 'a backslash (systemd unescapes it, docker keeps it)')):
        if ch in value:
            raise Unwritable(name, 'has %s, which an env file cannot carry for both '
                                   'systemd and docker' % what)
    if value and (value[0] in WHITESPACE or value[-1] in WHITESPACE):
        raise Unwritable(name, 'starts or ends with whitespace (systemd strips it, docker keeps it)')
    if value[:1] in ('"', "'"):
        raise Unwritable(name, 'starts with a quote (systemd removes quotes, docker keeps them)')


def check_name(name):
    if not name or not all(c.isalnum() or c == '_' for c in name) or name[0].isdigit():
        raise ValueError('%r is not an environment variable name' % name)


def line(name, value):
    """`NAME=value`, or Unwritable."""
    check_name(name)
    check_value(name, value)
    return '%s=%s' % (name, value)


def comment(text):
    """`# text` lines (a comment is one line in both formats: no continuation)."""
    out = []
    for part in text.splitlines() or ['']:
        # A trailing backslash would make systemd (before v254) join the next line.
        part = part.rstrip().rstrip('\\')
        out.append(('# ' + part) if part else '#')
    return out


def render(entries):
    """entries: ('var', name, value) | ('comment', text) | ('blank',); the file text."""
    out = []
    for e in entries:
        if e[0] == 'var':
            out.append(line(e[1], e[2]))
        elif e[0] == 'comment':
            out.extend(comment(e[1]))
        else:
            out.append('')
    return '\n'.join(out) + '\n'


def as_list(name, items):
    """A list setting in the service's list syntax: comma-separated when that
    reads back the same items, else a JSON array."""
    import json
    items = [str(x) for x in items]
    if not items:
        return '[]'
    plain = all(x and x == x.strip() and ',' not in x for x in items) and not items[0].startswith('[')
    return ','.join(items) if plain else json.dumps(items, ensure_ascii=False)


def as_bool(value):
    return 'True' if value else 'False'


def as_octal(value):
    return 'None' if value is None else '0o%o' % value


def as_int(value):
    return 'None' if value is None else str(int(value))
