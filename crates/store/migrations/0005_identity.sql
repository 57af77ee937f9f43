-- labsync schema, version 5: the file says it is labsync's. The application
-- id (bytes 68-71 of the SQLite header, 'LSYN') lets every labsync command
-- tell its own database from another program's SQLite file before touching
-- it, and `file` (libmagic) can name it.
PRAGMA application_id = 1280530766;
