"""`AbstractChunkedUpload.md5` in constant time, from the running md5 the
service stores beside each upload.

Django's property (chunked_upload/models.py `AbstractChunkedUpload.md5`)
reads the whole file. When the service wrote the upload's bytes, its table
`chunked_upload_md5_state` (or `<table>_md5_state` for a subclass) holds the
md5 state over exactly `offset` bytes of `file`. The replacement uses that
state only when it still describes the file (same name, same offset as the
row, file size on storage == offset, state consistent with that length);
otherwise (no row, stale after a chunk Django wrote, a different file
length, any error) it falls back to Django's own full read. Either way the
result is cached in `_md5`, as Django caches it (append_chunk clears it).
"""
import logging

from django.db import DatabaseError, connections, router, transaction

from . import ddl, md5_finish

log = logging.getLogger('chunked_upload_service')

# Per-process counts of each path, for operators and tests.
COUNTS = {'state': 0, 'reread': 0}

_original_md5 = None


def install():
    """Replace AbstractChunkedUpload.md5 (subclasses inherit it). Idempotent."""
    global _original_md5
    from chunked_upload.models import AbstractChunkedUpload
    current = AbstractChunkedUpload.__dict__['md5']
    if getattr(current.fget, '_chunked_upload_service', False):
        return
    _original_md5 = current
    AbstractChunkedUpload.md5 = property(_md5, doc=current.__doc__)


def _md5(upload):
    if getattr(upload, '_md5', None) is None:
        digest, why = from_service_state(upload)
        if digest is not None:
            COUNTS['state'] += 1
            log.info('upload %s: md5 from the service state (%d bytes, no file read)',
                     upload.upload_id, upload.offset)
            upload._md5 = digest
        else:
            COUNTS['reread'] += 1
            log.info('upload %s: md5 by reading the file (%s)', upload.upload_id, why)
            # Django's own property: reads file.chunks() and sets _md5.
            return _original_md5.fget(upload)
    return upload._md5


_md5._chunked_upload_service = True


def from_service_state(upload):
    """(hex digest, None) from the service's state, or (None, why not)."""
    if upload.pk is None:
        return None, 'unsaved upload'
    try:
        row = load_state(upload)
    except DatabaseError as e:
        return None, 'state not readable: %s' % (str(e).strip().splitlines() or [type(e).__name__])[0]
    if row is None:
        return None, 'no service state'
    state_file, state_offset, state = row
    if state_file != upload.file.name or state_offset != upload.offset:
        return None, 'stale service state (state %s at %d, row %s at %d)' % (
            state_file, state_offset, upload.file.name, upload.offset)
    try:
        size = upload.file.storage.size(upload.file.name)
    except (OSError, NotImplementedError) as e:
        return None, 'file size unknown: %s' % e
    if size != upload.offset:
        return None, 'file is %d bytes, the row says %d' % (size, upload.offset)
    try:
        if md5_finish.covered_length(state) != upload.offset:
            return None, 'service state covers %d bytes, not %d' % (
                md5_finish.covered_length(state), upload.offset)
        return md5_finish.finish_hex(state), None
    except md5_finish.BadState as e:
        return None, 'malformed service state: %s' % e


def load_state(upload):
    """(file, offset, state bytes) of the upload's state row, or None."""
    model = type(upload)
    alias = upload._state.db or router.db_for_read(model, instance=upload)
    connection = connections[alias]
    table = ddl.state_table(model._meta.db_table)
    sql = 'SELECT file, %s, state FROM %s WHERE upload_pk = %%s' % (
        connection.ops.quote_name('offset'), connection.ops.quote_name(table))
    # A savepoint, so that a missing table does not abort the view's transaction.
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute(sql, [upload.pk])
            row = cursor.fetchone()
    if row is None:
        return None
    return row[0], int(row[1]), bytes(row[2])
