/* paths.h: where the data files (schemas/, sql/) are: $OTTRECON_DATADIR when set, else the source
 * tree when the binary runs from the build tree, else the installed share/ottrecon. */
#ifndef OTTRECON_PATHS_H
#define OTTRECON_PATHS_H

/* The data directory holding schemas/ and sql/ (static storage, never NULL). */
const char *paths_datadir(void);
/* paths_datadir()/schemas and paths_datadir()/sql (static storage). */
const char *paths_schemas_dir(void);
const char *paths_sql_dir(void);

#endif
