"""The service's companion table, with the service's own DDL
(migrations/0004_md5_state.sql of the chunked-upload repository, which
src/store/migrate.rs applies), so that `manage.py migrate` and the service
create the same table and either may come first."""

# Byte for byte the statement of migrations/0004_md5_state.sql, with IF NOT EXISTS.
POSTGRESQL = (
    'CREATE TABLE IF NOT EXISTS "chunked_upload_md5_state" ("upload_pk" bigint NOT NULL PRIMARY KEY '
    'REFERENCES "chunked_upload_chunkedupload" ("id") ON DELETE CASCADE, "file" varchar(255) NOT NULL, '
    '"offset" bigint NOT NULL, "state" bytea NOT NULL)'
)

# SQLite spelling of the same columns (bytea -> blob; integer affinity for bigint).
SQLITE = (
    'CREATE TABLE IF NOT EXISTS "chunked_upload_md5_state" ("upload_pk" bigint NOT NULL PRIMARY KEY '
    'REFERENCES "chunked_upload_chunkedupload" ("id") ON DELETE CASCADE, "file" varchar(255) NOT NULL, '
    '"offset" bigint NOT NULL, "state" blob NOT NULL)'
)

DEFAULT_UPLOAD_TABLE = 'chunked_upload_chunkedupload'
DEFAULT_STATE_TABLE = 'chunked_upload_md5_state'


def for_vendor(vendor, upload_table=DEFAULT_UPLOAD_TABLE):
    """The DDL on `vendor` ('postgresql' or 'sqlite') for the companion table
    of `upload_table` (a subclass's table gets `<table>_md5_state`, as
    src/store/migrate.rs `ensure_md5_state` names it); None elsewhere."""
    ddl = {'postgresql': POSTGRESQL, 'sqlite': SQLITE}.get(vendor)
    if ddl is None or upload_table == DEFAULT_UPLOAD_TABLE:
        return ddl
    return (ddl.replace('"%s"' % DEFAULT_STATE_TABLE, '"%s_md5_state"' % upload_table)
               .replace('"%s"' % DEFAULT_UPLOAD_TABLE, '"%s"' % upload_table))


def state_table(upload_table):
    if upload_table == DEFAULT_UPLOAD_TABLE:
        return DEFAULT_STATE_TABLE
    return upload_table + '_md5_state'
