"""The two env-file readers the companion's `chunked_upload_env` output must
satisfy, ported line for line so tests can read a file as each would:

* systemd: `parse_env_file_internal` of src/basic/env-file.c (the state
  machine behind EnvironmentFile=, via load_env_file);
* docker: `parseKeyValueFile` of docker/cli (opts/parse.go, now
  pkg/kvfile/kvfile.go; docker run --env-file): the value literally, or, in
  the newest docker/cli, with one pair of matching outer quotes removed
  (`trimQuotes`; `trim_quotes=True`).
"""
NEWLINE = '\n\r'
WHITESPACE = ' \t\n\r'
COMMENTS = '#;'
SHELL_NEED_ESCAPE = '"\\`$'


def systemd(text):
    """{key: value} as systemd reads `text` (later keys win)."""
    out = {}
    state = 'PRE_KEY'
    key, value = [], None
    last_key_ws = last_value_ws = None

    def push():
        k = ''.join(key)
        if last_key_ws is not None:
            k = k[:last_key_ws]
        out[k] = ''.join(value or [])

    for c in text:
        if state == 'PRE_KEY':
            if c in COMMENTS:
                state = 'COMMENT'
            elif c not in WHITESPACE:
                state, key, last_key_ws = 'KEY', [c], None
        elif state == 'KEY':
            if c in NEWLINE:
                state, key = 'PRE_KEY', []
            elif c == '=':
                state, value, last_value_ws = 'PRE_VALUE', None, None
            else:
                if c not in WHITESPACE:
                    last_key_ws = None
                elif last_key_ws is None:
                    last_key_ws = len(key)
                key.append(c)
        elif state == 'PRE_VALUE':
            if c in NEWLINE:
                push()
                state, key, value = 'PRE_KEY', [], None
            elif c == "'":
                state = 'SINGLE'
            elif c == '"':
                state = 'DOUBLE'
            elif c == '\\':
                state = 'VALUE_ESCAPE'
            elif c not in WHITESPACE:
                state = 'VALUE'
                value = (value or []) + [c]
        elif state == 'VALUE':
            if c in NEWLINE:
                if last_value_ws is not None:
                    value = value[:last_value_ws]
                push()
                state, key, value = 'PRE_KEY', [], None
            elif c == '\\':
                state, last_value_ws = 'VALUE_ESCAPE', None
            else:
                if c not in WHITESPACE:
                    last_value_ws = None
                elif last_value_ws is None:
                    last_value_ws = len(value or [])
                value = (value or []) + [c]
        elif state == 'VALUE_ESCAPE':
            state = 'VALUE'
            if c not in NEWLINE:
                value = (value or []) + [c]
        elif state == 'SINGLE':
            if c == "'":
                state = 'PRE_VALUE'
            else:
                value = (value or []) + [c]
        elif state == 'DOUBLE':
            if c == '"':
                state = 'PRE_VALUE'
            elif c == '\\':
                state = 'DOUBLE_ESCAPE'
            else:
                value = (value or []) + [c]
        elif state == 'DOUBLE_ESCAPE':
            state = 'DOUBLE'
            if c in SHELL_NEED_ESCAPE:
                value = (value or []) + [c]
            elif c != '\n':
                value = (value or []) + ['\\', c]
        elif state == 'COMMENT':
            if c == '\\':
                state = 'COMMENT_ESCAPE'
            elif c in NEWLINE:
                state = 'PRE_KEY'
        elif state == 'COMMENT_ESCAPE':
            state = 'PRE_KEY' if c in NEWLINE else 'COMMENT'
    if state in ('PRE_VALUE', 'VALUE', 'VALUE_ESCAPE', 'SINGLE', 'DOUBLE', 'DOUBLE_ESCAPE'):
        if state == 'VALUE' and last_value_ws is not None:
            value = value[:last_value_ws]
        push()
    return out


def _trim_quotes(value):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
        return value[1:-1]
    return value


def docker(text, trim_quotes=False):
    """{key: value} as `docker run --env-file` reads `text`; ValueError where
    docker refuses the file."""
    out = {}
    data = text.encode('utf-8')
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    # bufio.ScanLines: split at \n, drop one trailing \r.
    for raw in data.split(b'\n'):
        if raw.endswith(b'\r'):
            raw = raw[:-1]
        line = raw.decode('utf-8').lstrip(' \t\n\r\v\f\x85\xa0')
        if not line or line.startswith('#'):
            continue
        name, sep, value = line.partition('=')
        name = name.lstrip(' \t')
        if not name:
            raise ValueError('no variable name on line %r' % line)
        if any(c in ' \t' for c in name):
            raise ValueError('variable %r contains whitespaces' % name)
        if not sep:
            continue    # taken from docker's own environment: not ours
        out[name] = _trim_quotes(value) if trim_quotes else value
    return out
