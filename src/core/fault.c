/* fault.c: named fault-injection points (see fault.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"

void fault_point(const char *name)
{
	const char *want = getenv("OTTRECON_FAULT");
	if (want && strcmp(want, name) == 0)
		kill(getpid(), SIGKILL);
}
