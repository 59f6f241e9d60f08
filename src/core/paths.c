/* paths.c: finds the data directory (schemas/, sql/): $OTTRECON_DATADIR when set, else the source
 * tree when the binary runs from the build tree, else the installed share/ottrecon. */
#include "core/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildconf.h"

static char g_datadir[PATH_MAX];
static char g_schemas[PATH_MAX + 16];
static char g_sql[PATH_MAX + 16];

/* 1 when the running executable lives in this build's tree (build/ottrecon or a test). */
static int running_from_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	size_t blen = strlen(OTTRECON_BUILD_ROOT);
	return strncmp(exe, OTTRECON_BUILD_ROOT, blen) == 0 && exe[blen] == '/';
}

const char *paths_datadir(void)
{
	if (g_datadir[0])
		return g_datadir;
	const char *env = getenv("OTTRECON_DATADIR");
	const char *dir;
	if (env && *env)
		dir = env;
	else if (running_from_build_tree())
		dir = OTTRECON_SOURCE_ROOT;
	else
		dir = OTTRECON_INSTALL_DATADIR;
	snprintf(g_datadir, sizeof(g_datadir), "%s", dir);
	return g_datadir;
}

const char *paths_schemas_dir(void)
{
	if (!g_schemas[0])
		snprintf(g_schemas, sizeof(g_schemas), "%s/schemas", paths_datadir());
	return g_schemas;
}

const char *paths_sql_dir(void)
{
	if (!g_sql[0])
		snprintf(g_sql, sizeof(g_sql), "%s/sql", paths_datadir());
	return g_sql;
}
